// Package pki is the certificate authority of an exposed `ksuite up`: one
// CA and one server certificate under a directory, created on first start,
// checked on every start and renewed before they expire.
//
// Keys are ECDSA P-256 and written with mode 0600; certificates are PEM.
// The CA certificate (ca.pem) is what clients trust: copy it to a laptop,
// pass it to kcat with ssl.ca.location, to Java with
// ssl.truststore.type=PEM. The server certificate names every host clients
// use (the external host, and loopback for the process's own clients).
//
// [Ensure] does the work once; [Server] serves the certificate to a TLS
// listener and renews it while the process runs, so a cluster that stays up
// for a year keeps a valid certificate.
package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File names under [Options.Dir].
const (
	CAFile   = "ca.pem"
	caKey    = "ca.key"
	CertFile = "server.pem"
	keyFile  = "server.key"
)

// Defaults of [Options].
const (
	DefaultCAValidity   = 10 * 365 * 24 * time.Hour
	DefaultCertValidity = 365 * 24 * time.Hour
	// DefaultRenewBefore is how long before expiry a certificate is
	// replaced: the same 30 days `ksuite doctor` starts warning at.
	DefaultRenewBefore = 30 * 24 * time.Hour
)

// Options configures [Ensure] and [NewServer].
type Options struct {
	// Dir holds the files; it is created with mode 0700.
	Dir string
	// Hosts are the DNS names and IP addresses the server certificate must
	// be valid for. At least one is required.
	Hosts []string
	// CAValidity, CertValidity and RenewBefore default to the constants
	// above; tests shorten them.
	CAValidity, CertValidity, RenewBefore time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (o *Options) setDefaults() error {
	if o.Dir == "" {
		return errors.New("pki: no directory")
	}
	if len(o.Hosts) == 0 {
		return errors.New("pki: no host for the server certificate")
	}
	if o.CAValidity <= 0 {
		o.CAValidity = DefaultCAValidity
	}
	if o.CertValidity <= 0 {
		o.CertValidity = DefaultCertValidity
	}
	if o.RenewBefore <= 0 {
		o.RenewBefore = DefaultRenewBefore
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Result says what [Ensure] found and did.
type Result struct {
	// CAPath is the CA certificate clients trust.
	CAPath string
	// CACreated is true when the CA is new: on first start, or because the
	// old one was about to expire. Clients must fetch ca.pem again.
	CACreated bool
	// CertIssued is true when a new server certificate was written, and
	// Reason says why ("none yet", "expires ...", "does not name HOST").
	CertIssued bool
	Reason     string
	// Cert is the server certificate and key to serve.
	Cert tls.Certificate
	// NotAfter is when the server certificate expires.
	NotAfter time.Time
}

// Ensure makes sure Dir holds a CA valid for at least RenewBefore and a
// server certificate, signed by that CA, valid for at least RenewBefore and
// naming every host. Whatever does not hold is (re)created; nothing valid
// is touched.
func Ensure(opts Options) (Result, error) {
	if err := opts.setDefaults(); err != nil {
		return Result{}, err
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return Result{}, fmt.Errorf("TLS directory %s: %w", opts.Dir, err)
	}
	now := opts.Now()
	res := Result{CAPath: filepath.Join(opts.Dir, CAFile)}

	caPath, caKeyPath := filepath.Join(opts.Dir, CAFile), filepath.Join(opts.Dir, caKey)
	ca, caErr := loadPair(caPath, caKeyPath)
	if caErr != nil && (exists(caPath) || exists(caKeyPath)) {
		// Clients trust this CA: replacing it would lock every one of them
		// out, and overwrite what a backup could still restore.
		return Result{}, fmt.Errorf("the cluster's CA in %s is damaged (%w): restore %s and %s from a backup, or remove %s to make a new CA (every client must then fetch the new %s)",
			opts.Dir, caErr, CAFile, caKey, opts.Dir, CAFile)
	}
	if caErr != nil || now.Add(opts.RenewBefore).After(ca.cert.NotAfter) {
		var err error
		if ca, err = newCA(opts, now); err != nil {
			return Result{}, err
		}
		res.CACreated = true
	}

	srv, srvErr := loadPair(filepath.Join(opts.Dir, CertFile), filepath.Join(opts.Dir, keyFile))
	reason := ""
	switch {
	case res.CACreated:
		reason = "new CA"
	case errors.Is(srvErr, fs.ErrNotExist):
		reason = "none yet"
	case srvErr != nil:
		reason = srvErr.Error()
	default:
		reason = stale(srv.cert, ca.cert, opts.Hosts, now.Add(opts.RenewBefore))
	}
	if reason != "" {
		var err error
		if srv, err = issue(opts, ca, now); err != nil {
			return Result{}, err
		}
		res.CertIssued, res.Reason = true, reason
	}
	res.NotAfter = srv.cert.NotAfter
	res.Cert = tls.Certificate{Certificate: [][]byte{srv.cert.Raw}, PrivateKey: srv.key, Leaf: srv.cert}
	return res, nil
}

// stale says why a server certificate must be replaced, or "".
func stale(cert, ca *x509.Certificate, hosts []string, renewAt time.Time) string {
	if err := cert.CheckSignatureFrom(ca); err != nil {
		return "not signed by the current CA"
	}
	if renewAt.After(cert.NotAfter) {
		return "expires " + cert.NotAfter.UTC().Format(time.RFC3339)
	}
	for _, h := range hosts {
		if cert.VerifyHostname(h) != nil {
			return "does not name " + h
		}
	}
	return ""
}

// pair is a parsed certificate and its key.
type pair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func loadPair(certPath, keyPath string) (pair, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return pair{}, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return pair{}, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return pair{}, fmt.Errorf("%s or %s is not PEM", certPath, keyPath)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return pair{}, fmt.Errorf("%s: %w", certPath, err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return pair{}, fmt.Errorf("%s: %w", keyPath, err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return pair{}, fmt.Errorf("%s does not belong to %s", keyPath, certPath)
	}
	// A key copied around may have lost its mode; it must stay private.
	if err := restrict(keyPath); err != nil {
		return pair{}, err
	}
	return pair{cert: cert, key: key}, nil
}

func newCA(opts Options, now time.Time) (pair, error) {
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: strings.TrimSpace("ksuite development CA " + host)},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(opts.CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	return create(opts.Dir, CAFile, caKey, tmpl, nil)
}

func issue(opts Options, ca pair, now time.Time) (pair, error) {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: opts.Hosts[0]},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(opts.CertValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if tmpl.NotAfter.After(ca.cert.NotAfter) {
		tmpl.NotAfter = ca.cert.NotAfter
	}
	for _, h := range opts.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(tmpl.IPAddresses, ip.Equal) {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if !slices.Contains(tmpl.DNSNames, h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return create(opts.Dir, CertFile, keyFile, tmpl, &ca)
}

// create makes a key, signs tmpl with parent (itself when nil) and writes
// both files, the key first so a certificate never exists without it.
func create(dir, certName, keyName string, tmpl *x509.Certificate, parent *pair) (pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return pair{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return pair{}, err
	}
	tmpl.SerialNumber = serial
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signer)
	if err != nil {
		return pair{}, fmt.Errorf("signing %s: %w", certName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return pair{}, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return pair{}, err
	}
	if err := writeAtomic(filepath.Join(dir, keyName), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return pair{}, err
	}
	if err := writeAtomic(filepath.Join(dir, certName), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return pair{}, err
	}
	return pair{cert: cert, key: key}, nil
}

// writeAtomic writes through a temporary file created with mode, so a
// crash never leaves half a file and a key is never readable by others,
// not even for a moment.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// restrict makes a key file readable by its owner only.
func restrict(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("%s is readable by others and cannot be restricted: %w", path, err)
	}
	return nil
}

// ReadCA returns the PEM CA certificate at path (a directory's CAFile),
// as clients need it.
func ReadCA(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w (is this the data directory of a `ksuite up --external-host`?)", err)
	}
	if b, _ := pem.Decode(bytes.TrimSpace(data)); b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return data, nil
}
