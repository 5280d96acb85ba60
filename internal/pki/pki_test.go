package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock { return &clock{t: time.Now()} }

func opts(t *testing.T, c *clock, hosts ...string) Options {
	return Options{Dir: filepath.Join(t.TempDir(), "tls"), Hosts: hosts, Now: c.Now}
}

// verify checks that cert chains to the CA in dir for host, at time at.
func verify(t *testing.T, dir string, cert *x509.Certificate, host string, at time.Time) error {
	t.Helper()
	caPEM, err := ReadCA(filepath.Join(dir, CAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEnsureFirstStart(t *testing.T) {
	c := newClock()
	o := opts(t, c, "kafka.example.com", "127.0.0.2", "localhost", "127.0.0.1")
	res, err := Ensure(o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.CACreated || !res.CertIssued || res.Reason != "new CA" {
		t.Fatalf("first start: %+v", res)
	}
	if res.CAPath != filepath.Join(o.Dir, "ca.pem") {
		t.Fatalf("CA at %s", res.CAPath)
	}
	if _, ok := res.Cert.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Fatalf("key is %T, want ECDSA", res.Cert.PrivateKey)
	}
	for _, h := range o.Hosts {
		if err := verify(t, o.Dir, res.Cert.Leaf, h, c.Now()); err != nil {
			t.Errorf("certificate for %s: %v", h, err)
		}
	}
	if err := verify(t, o.Dir, res.Cert.Leaf, "other.example.com", c.Now()); err == nil {
		t.Error("certificate verifies for a host it was not issued for")
	}
	if got := res.NotAfter.Sub(c.Now()); got < 364*24*time.Hour || got > 366*24*time.Hour {
		t.Errorf("server certificate valid for %s, want about a year", got)
	}
	if runtime.GOOS != "windows" {
		for _, name := range []string{"ca.key", "server.key"} {
			st, err := os.Stat(filepath.Join(o.Dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
			}
		}
		st, _ := os.Stat(o.Dir)
		if st.Mode().Perm() != 0o700 {
			t.Errorf("TLS directory mode %v, want 0700", st.Mode().Perm())
		}
	}
}

// TestEnsureRenews walks the reasons a certificate is replaced, and checks
// that a valid one is left exactly as it is.
func TestEnsureRenews(t *testing.T) {
	tests := []struct {
		name       string
		change     func(t *testing.T, o *Options, c *clock)
		wantCA     bool
		wantIssued bool
		wantReason string
	}{
		{name: "nothing to do", change: func(*testing.T, *Options, *clock) {}},
		{
			name:   "still 31 days left",
			change: func(_ *testing.T, _ *Options, c *clock) { c.Add(DefaultCertValidity - 31*24*time.Hour) },
		},
		{
			name:       "29 days left",
			change:     func(_ *testing.T, _ *Options, c *clock) { c.Add(DefaultCertValidity - 29*24*time.Hour) },
			wantIssued: true, wantReason: "expires ",
		},
		{
			name:       "new host",
			change:     func(_ *testing.T, o *Options, _ *clock) { o.Hosts = append(o.Hosts, "10.1.2.3") },
			wantIssued: true, wantReason: "does not name 10.1.2.3",
		},
		{
			name:       "server key deleted",
			change:     func(t *testing.T, o *Options, _ *clock) { rm(t, filepath.Join(o.Dir, "server.key")) },
			wantIssued: true, wantReason: "none yet",
		},
		{
			name: "server certificate corrupt",
			change: func(t *testing.T, o *Options, _ *clock) {
				write(t, filepath.Join(o.Dir, "server.pem"), "garbage")
			},
			wantIssued: true, wantReason: "is not PEM",
		},
		{
			name:   "CA near its end",
			change: func(_ *testing.T, _ *Options, c *clock) { c.Add(DefaultCAValidity - 10*24*time.Hour) },
			wantCA: true, wantIssued: true, wantReason: "new CA",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			o := opts(t, c, "127.0.0.2", "localhost")
			first, err := Ensure(o)
			if err != nil {
				t.Fatal(err)
			}
			caBefore := read(t, first.CAPath)
			tt.change(t, &o, c)
			res, err := Ensure(o)
			if err != nil {
				t.Fatal(err)
			}
			if res.CACreated != tt.wantCA || res.CertIssued != tt.wantIssued || !strings.Contains(res.Reason, tt.wantReason) {
				t.Fatalf("got CACreated=%v CertIssued=%v Reason=%q; want %v %v %q", res.CACreated, res.CertIssued, res.Reason, tt.wantCA, tt.wantIssued, tt.wantReason)
			}
			if caSame := bytes.Equal(caBefore, read(t, res.CAPath)); caSame == tt.wantCA {
				t.Fatalf("CA file unchanged=%v, want changed=%v", caSame, tt.wantCA)
			}
			if !tt.wantIssued && !bytes.Equal(first.Cert.Leaf.Raw, res.Cert.Leaf.Raw) {
				t.Fatal("a valid certificate was replaced")
			}
			for _, h := range o.Hosts {
				if err := verify(t, o.Dir, res.Cert.Leaf, h, c.Now()); err != nil {
					t.Fatalf("after Ensure the certificate does not verify for %s: %v", h, err)
				}
			}
			if left := res.NotAfter.Sub(c.Now()); left < DefaultRenewBefore {
				t.Fatalf("certificate left with %s of validity", left)
			}
		})
	}
}

// TestEnsureRefusesDamagedCA: clients trust ca.pem, so a CA that is half
// gone or unreadable is reported, not silently replaced (which would lock
// out every client and overwrite what a backup could restore).
func TestEnsureRefusesDamagedCA(t *testing.T) {
	for name, damage := range map[string]func(t *testing.T, dir string){
		"CA key lost":         func(t *testing.T, dir string) { rm(t, filepath.Join(dir, "ca.key")) },
		"CA certificate lost": func(t *testing.T, dir string) { rm(t, filepath.Join(dir, "ca.pem")) },
		"CA certificate corrupt": func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "ca.pem"), "garbage")
		},
	} {
		t.Run(name, func(t *testing.T) {
			o := opts(t, newClock(), "127.0.0.2")
			if _, err := Ensure(o); err != nil {
				t.Fatal(err)
			}
			damage(t, o.Dir)
			before := map[string][]byte{}
			for _, f := range []string{"ca.pem", "ca.key"} {
				before[f], _ = os.ReadFile(filepath.Join(o.Dir, f))
			}
			_, err := Ensure(o)
			if err == nil || !strings.Contains(err.Error(), "CA in "+o.Dir+" is damaged") || !strings.Contains(err.Error(), "restore ca.pem and ca.key from a backup") {
				t.Fatalf("Ensure: %v", err)
			}
			for f, b := range before {
				if after, _ := os.ReadFile(filepath.Join(o.Dir, f)); !bytes.Equal(after, b) {
					t.Errorf("%s was rewritten", f)
				}
			}
		})
	}
}

func TestEnsureRestrictsKeyMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are not Unix permissions on Windows")
	}
	c := newClock()
	o := opts(t, c, "127.0.0.2")
	if _, err := Ensure(o); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(o.Dir, "server.key")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(o); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(key); st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v after Ensure, want 0600", st.Mode().Perm())
	}
}

func TestEnsureBadOptions(t *testing.T) {
	if _, err := Ensure(Options{Hosts: []string{"x"}}); err == nil {
		t.Error("no directory accepted")
	}
	if _, err := Ensure(Options{Dir: t.TempDir()}); err == nil {
		t.Error("no host accepted")
	}
}

// TestServerRenewsWhileRunning: a listener started today still serves a
// valid certificate a year later without a restart.
func TestServerRenewsWhileRunning(t *testing.T) {
	c := newClock()
	o := opts(t, c, "127.0.0.2")
	var renewed []Result
	s, first, err := NewServer(o, func(r Result, err error) {
		if err != nil {
			t.Errorf("renewal: %v", err)
		}
		renewed = append(renewed, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	get := s.TLSConfig().GetCertificate
	cert, _ := get(&tls.ClientHelloInfo{})
	if !bytes.Equal(cert.Leaf.Raw, first.Cert.Leaf.Raw) {
		t.Fatal("server does not serve the certificate Ensure made")
	}
	c.Add(2 * time.Hour) // checked, but far from expiry
	if cert, _ = get(&tls.ClientHelloInfo{}); !bytes.Equal(cert.Leaf.Raw, first.Cert.Leaf.Raw) || len(renewed) != 0 {
		t.Fatal("certificate replaced long before expiry")
	}
	c.Add(DefaultCertValidity - 20*24*time.Hour)
	cert, _ = get(&tls.ClientHelloInfo{})
	if bytes.Equal(cert.Leaf.Raw, first.Cert.Leaf.Raw) || len(renewed) != 1 {
		t.Fatalf("certificate not renewed 20 days before expiry (renewals: %d)", len(renewed))
	}
	if err := verify(t, o.Dir, cert.Leaf, "127.0.0.2", c.Now()); err != nil {
		t.Fatalf("renewed certificate: %v", err)
	}
	onDisk, _ := pem.Decode(read(t, filepath.Join(o.Dir, "server.pem")))
	if !bytes.Equal(onDisk.Bytes, cert.Leaf.Raw) {
		t.Fatal("renewed certificate not written to server.pem")
	}
}

func rm(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
