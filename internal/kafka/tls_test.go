package kafka_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ksuite/ksuite/internal/kafka"
	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/third_party/kfake"
)

// selfSignedCA writes a CA certificate to dir and returns a server
// certificate it signed for 127.0.0.1 and the name "kafka.test".
func selfSignedCA(t *testing.T, dir string) (caFile string, server tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ksuite test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kafka.test"},
		DNSNames:     []string{"kafka.test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
}

func TestConnectTLS(t *testing.T) {
	caFile, cert := selfSignedCA(t, t.TempDir())
	c := testkit.NewFake(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	base := kafka.Config{Brokers: c.Brokers, Timeout: 5 * time.Second}

	t.Run("trusted CA", func(t *testing.T) {
		cfg := base
		cfg.TLS = kafka.TLS{CAFile: caFile}
		cl, err := cfg.Connect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		cl.Close()
	})
	t.Run("unknown CA", func(t *testing.T) {
		cfg := base
		cfg.TLS = kafka.TLS{Enabled: true}
		connectFails(t, cfg, "TLS certificate not trusted: pass the cluster's CA with --tls-ca")
	})
	t.Run("wrong server name", func(t *testing.T) {
		cfg := base
		cfg.TLS = kafka.TLS{CAFile: caFile, ServerName: "other.test"}
		connectFails(t, cfg, "--tls-server-name")
	})
	t.Run("plaintext to TLS", func(t *testing.T) {
		connectFails(t, base, "the broker closed the connection")
	})
}

func TestMetadataListsThreeBrokers(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		cl, err := c.Config().Connect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		brokers, err := kadm.NewClient(cl).ListBrokers(testkit.Context(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if len(brokers) != 3 {
			t.Fatalf("%s lists %d brokers, want 3: %v", c.Name, len(brokers), brokers)
		}
	})
}

func TestConnectTLSCAPEM(t *testing.T) {
	caFile, cert := selfSignedCA(t, t.TempDir())
	c := testkit.NewFake(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	pemText, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := kafka.Config{Brokers: c.Brokers, Timeout: 5 * time.Second, TLS: kafka.TLS{CAPEM: string(pemText)}}
	cl, err := cfg.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cl.Close()
	cfg.TLS.CAPEM = "not a certificate"
	if _, err := cfg.Connect(context.Background()); err == nil || !strings.Contains(err.Error(), "--tls-ca-pem holds no PEM certificate") {
		t.Fatalf("bad PEM text: %v", err)
	}
}

// advertisedListener reports an address the cluster cannot be dialed at
// from here, as a broker behind a cloud's public name does.
type advertisedListener struct {
	net.Listener
	addr advertisedAddr
}

type advertisedAddr string

func (a advertisedAddr) Network() string    { return "tcp" }
func (a advertisedAddr) String() string     { return string(a) }
func (l advertisedListener) Addr() net.Addr { return l.addr }

// TestRedirect: brokers advertise kafka.test, which does not resolve; a
// client with Redirect dials their real addresses and verifies the
// certificate against the advertised name, not the one dialed.
func TestRedirect(t *testing.T) {
	caFile, cert := selfSignedCA(t, t.TempDir())
	redirect := map[string]string{}
	var seeds []string
	c := testkit.NewFake(t,
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}),
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			ln, err := net.Listen(network, addr)
			if err != nil {
				return nil, err
			}
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			adv := net.JoinHostPort("kafka.test", port)
			// localhost is not in the certificate: only kafka.test may be verified.
			redirect[adv] = net.JoinHostPort("localhost", port)
			seeds = append(seeds, ln.Addr().String())
			return advertisedListener{Listener: ln, addr: advertisedAddr(adv)}, nil
		}))
	if c.Brokers[0] == seeds[0] {
		t.Fatalf("kfake advertises the listen address %s, not the advertised one", c.Brokers[0])
	}
	createTopic := func(cfg kafka.Config) error {
		cl, err := cfg.Connect(context.Background())
		if err != nil {
			return err
		}
		defer cl.Close()
		resp, err := kadm.NewClient(cl).CreateTopic(testkit.Context(t, 5*time.Second), 1, 1, nil, testkit.TopicName(t))
		if err == nil {
			err = resp.Err
		}
		return err
	}
	cfg := kafka.Config{Brokers: seeds, Timeout: time.Second, TLS: kafka.TLS{CAFile: caFile}}
	if err := createTopic(cfg); err == nil {
		t.Fatal("without Redirect a request reached a broker at kafka.test, which does not resolve")
	}
	cfg.Redirect, cfg.Timeout = redirect, 5*time.Second
	if err := createTopic(cfg); err != nil {
		t.Fatalf("with Redirect: %v", err)
	}
	// TLS still checks the advertised name, not the address dialed.
	cfg.TLS.ServerName = "other.test"
	if err := createTopic(cfg); err == nil {
		t.Fatal("with Redirect the certificate was not checked against the server name")
	}
}
