// Package expose prepares what `ksuite up --external-host HOST` needs to put
// the embedded cluster on the network safely: a CA and a server
// certificate naming HOST (internal/pki) and the admin's password, both
// kept under the data directory, and the one-time notice telling the
// operator where they are. It never prints the password.
package expose

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/internal/pki"
)

// Names under the data directory, and the environment variable that sets
// the admin's password on first start.
const (
	TLSDir       = "tls"
	PasswordFile = "admin.password"
	PasswordEnv  = "KSUITE_ADMIN_PASSWORD"
	// noticeFile, under TLSDir, records that a start reached ready and
	// showed the first-start notice.
	noticeFile = "notice-shown"
	// saslFile is where kfake persists the SASL credentials.
	saslFile = "sasl.json"
)

// Options is what `ksuite up` was asked for.
type Options struct {
	// DataDir keeps the CA and the password; "" (--in-memory) is allowed
	// only for --insecure-plaintext, which has neither.
	DataDir string
	// Host is --external-host; "" keeps the cluster on 127.0.0.1.
	Host string
	// ListenAddress is --listen-address ("" for the default).
	ListenAddress string
	// Insecure is --insecure-plaintext: no TLS, no SASL, no ACLs.
	Insecure bool
	// Getenv reads KSUITE_ADMIN_PASSWORD (os.Getenv in production).
	Getenv func(string) string
	// Logger hears about certificate renewals while the cluster runs.
	Logger *slog.Logger
}

// Setup is a prepared exposure.
type Setup struct {
	// External configures the embedded cluster.
	External *embedded.External
	// FirstStart is true until a start has shown the operator where the
	// CA and the password are ([Setup.Notice], then [Setup.NoticeShown]),
	// and again when the CA is new. A first start that fails before it is
	// ready (a port in use) leaves the next one the first.
	FirstStart bool
	// CAPath and PasswordPath are absolute; PasswordPath is "" when the
	// password comes from KSUITE_ADMIN_PASSWORD.
	CAPath, PasswordPath string
	// PasswordFromEnv says the admin password is KSUITE_ADMIN_PASSWORD's.
	PasswordFromEnv bool

	noticePath string
}

// Prepare checks the flags, and for a secure exposure makes sure the CA,
// the certificate (renewed when due) and the admin password exist. It
// returns nil, nil when nothing is exposed.
func Prepare(o Options) (*Setup, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Host == "" {
		switch {
		case o.Insecure:
			return nil, errors.New("--insecure-plaintext only applies with --external-host HOST")
		case o.ListenAddress != "":
			return nil, fmt.Errorf("--listen-address %s goes with --external-host HOST (the name or IP other machines use); without it the brokers stay on 127.0.0.1", o.ListenAddress)
		}
		return nil, nil
	}
	x := &embedded.External{Host: o.Host, ListenAddress: o.ListenAddress}
	if err := x.Validate(); err != nil {
		return nil, err // before anything is written to the data directory
	}
	if o.Insecure {
		return &Setup{External: x}, nil
	}
	if o.DataDir == "" {
		return nil, errors.New("--external-host keeps its CA and admin password in the data directory: drop --in-memory (or pass --data-dir)")
	}
	dir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Setup{External: x}
	// kfake keeps the users' credentials in sasl.json, written 0600 since
	// patch 0020; a data directory from before still has it readable by all.
	if err := restrict(filepath.Join(dir, saslFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	fresh := !exists(filepath.Join(dir, TLSDir))
	if x.AdminPassword, s.PasswordPath, s.PasswordFromEnv, s.FirstStart, err = adminPassword(dir, fresh, o.Getenv); err != nil {
		return nil, err
	}
	srv, res, err := pki.NewServer(pki.Options{Dir: filepath.Join(dir, TLSDir), Hosts: certHosts(o.Host, x.ListenAddress)}, func(r pki.Result, err error) {
		switch {
		case err != nil:
			o.Logger.Error("renewing the TLS certificate failed; serving the old one", "err", err)
		case r.CACreated:
			o.Logger.Warn("the CA was renewed: clients must fetch the new one", "ca", r.CAPath)
		default:
			o.Logger.Info("TLS certificate renewed", "reason", r.Reason, "expires", r.NotAfter)
		}
	})
	if err != nil {
		return nil, err
	}
	if res.CertIssued && !res.CACreated {
		o.Logger.Info("TLS certificate issued", "reason", res.Reason, "expires", res.NotAfter)
	}
	x.TLS, x.CAFile, s.CAPath = srv.TLSConfig(), res.CAPath, res.CAPath
	s.noticePath = filepath.Join(dir, TLSDir, noticeFile)
	s.FirstStart = s.FirstStart || res.CACreated || !exists(s.noticePath)
	return s, nil
}

// certHosts are the names the certificate must carry: the external host,
// and the local names this process and the machine's own tools use.
func certHosts(host, listen string) []string {
	hosts := []string{host, "localhost", "127.0.0.1", "::1"}
	if ip := net.ParseIP(listen); ip != nil && !ip.IsUnspecified() {
		hosts = append(hosts, listen)
	}
	return hosts
}

// adminPassword returns the admin's password: KSUITE_ADMIN_PASSWORD when
// set, else the password file, else — in a fresh data directory — a new
// one written to the file. generated reports the last case.
func adminPassword(dir string, fresh bool, getenv func(string) string) (pw, path string, fromEnv, generated bool, err error) {
	if pw = getenv(PasswordEnv); pw != "" {
		return pw, "", true, false, nil
	}
	path = filepath.Join(dir, PasswordFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := restrict(path); err != nil {
			return "", "", false, false, err
		}
		if pw = strings.TrimSpace(string(data)); pw == "" {
			return "", "", false, false, fmt.Errorf("%s is empty: put the admin password in it, or set %s", path, PasswordEnv)
		}
		return pw, path, false, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", "", false, false, fmt.Errorf("admin password: %w", err)
	case !fresh:
		return "", "", false, false, fmt.Errorf("no admin password: %s is missing and %s is not set; set %s to the admin password this cluster was first started with", path, PasswordEnv, PasswordEnv)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", "", false, false, err
	}
	pw = base64.RawURLEncoding.EncodeToString(b)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", false, false, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", "", false, false, fmt.Errorf("admin password: %w", err)
	}
	_, err = f.WriteString(pw + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", "", false, false, fmt.Errorf("admin password: %w", err)
	}
	return pw, path, false, true, nil
}

// restrict keeps the password file readable by its owner only.
func restrict(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return err
	}
	return os.Chmod(path, 0o600)
}

// Notice is what the operator is told once, on first start: how clients
// reach the cluster, where the CA and the admin password are, and what to
// do next. It never contains the password.
func (s *Setup) Notice(portBase, nodes int) string {
	x := s.External
	ports := strconv.Itoa(portBase)
	if nodes > 1 {
		ports += "-" + strconv.Itoa(portBase+nodes-1)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The brokers are exposed at %s:%s over SASL_SSL with SCRAM-SHA-512; ACLs are on.\n", x.Host, ports)
	fmt.Fprintf(&b, "  CA certificate (clients trust it): %s\n", s.CAPath)
	if s.PasswordFromEnv {
		fmt.Fprintf(&b, "  admin password: the %s this first start was given\n", PasswordEnv)
	} else {
		fmt.Fprintf(&b, "  admin password (user %s, mode 0600): %s\n", embedded.AdminUser, s.PasswordPath)
	}
	pw := fmt.Sprintf("$(cat %s)", s.PasswordPath)
	if s.PasswordFromEnv {
		pw = "$" + PasswordEnv
	}
	// The commands are meant to be copied: they name the ports and the
	// data directory this cluster uses, and pipe the new user's password.
	export := fmt.Sprintf("ksuite profile export --external-host %s", x.Host)
	if portBase != embedded.DefaultPortBase {
		export += fmt.Sprintf(" --port-base %d", portBase)
	}
	if nodes != embedded.DefaultNodes {
		export += fmt.Sprintf(" --nodes %d", nodes)
	}
	export += " --data-dir " + filepath.Dir(filepath.Dir(s.CAPath))
	fmt.Fprintf(&b, "Next (docs/expose.md): open TCP %s in the firewall, copy ca.pem to the clients, and as admin:\n", ports)
	fmt.Fprintf(&b, "  %s --user admin --name admin > admin.yaml\n", export)
	fmt.Fprintf(&b, "  printf %%s \"$ALICE_PASSWORD\" | KSUITE_SASL_PASSWORD=\"%s\" ksuite --profile admin users add alice --password-stdin\n", pw)
	fmt.Fprintf(&b, "then grant alice ACLs (acls: in topics.yaml, ksuite topics apply) and give her\n")
	fmt.Fprintf(&b, "  %s --user alice > team.yaml\n", export)
	return b.String()
}

// NoticeShown records that the operator saw [Setup.Notice], so later
// starts stay quiet.
func (s *Setup) NoticeShown() error {
	if s.noticePath == "" {
		return nil
	}
	return os.WriteFile(s.noticePath, nil, 0o600)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
