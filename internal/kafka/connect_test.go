package kafka_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/kafka"
	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/third_party/kfake"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// connectFails connects with cfg and checks the failure: a *ConnectError
// whose one line names want, within the timeout (never a hang), and never
// the password.
func connectFails(t *testing.T, cfg kafka.Config, want string) {
	t.Helper()
	start := time.Now()
	cl, err := cfg.Connect(context.Background())
	elapsed := time.Since(start)
	if err == nil {
		cl.Close()
		t.Fatalf("connect to %v succeeded, want failure %q", cfg.Brokers, want)
	}
	var ce *kafka.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("error %T %v is not a *ConnectError", err, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line containing %q", msg, want)
	}
	if cfg.SASL.Password != "" && strings.Contains(msg, cfg.SASL.Password) {
		t.Errorf("error leaks the password: %q", msg)
	}
	if limit := cfg.Timeout + 2*time.Second; elapsed > limit {
		t.Errorf("failing took %s, more than the timeout %s", elapsed, cfg.Timeout)
	}
}

func TestConnectUnreachable(t *testing.T) {
	addr := closedPort(t)
	connectFails(t, kafka.Config{Brokers: []string{addr}, Timeout: 3 * time.Second}, addr+": connection refused")
}

func TestConnectDNS(t *testing.T) {
	connectFails(t, kafka.Config{Brokers: []string{"no-such-host.invalid:9092"}, Timeout: 3 * time.Second},
		`DNS lookup of "no-such-host.invalid" failed`)
}

func TestConnectTLSToPlaintext(t *testing.T) {
	c := testkit.NewFake(t)
	cfg := c.Config()
	cfg.Timeout = 3 * time.Second
	cfg.TLS.Enabled = true
	connectFails(t, cfg, "TLS")
}

func TestConnectWrongSASLPassword(t *testing.T) {
	const user, pass = "app", "right-password"
	fake := testkit.NewFake(t, kfake.EnableSASL(), kfake.Superuser(kafka.MechanismScramSHA256, user, pass))
	clusters := []struct {
		testkit.Cluster
		mechanism, user, pass string
	}{{fake, kafka.MechanismScramSHA256, user, pass}}
	if real, ok := testkit.RealKafkaSASL(t); ok {
		clusters = append(clusters, struct {
			testkit.Cluster
			mechanism, user, pass string
		}{real, kafka.MechanismScramSHA512, testkit.SASLUser, testkit.SASLPassword})
	}
	for _, c := range clusters {
		t.Run(c.Name, func(t *testing.T) {
			cfg := c.Config()
			cfg.Timeout = 5 * time.Second
			cfg.SASL = kafka.SASL{Mechanism: c.mechanism, Username: c.user, Password: c.pass}

			cl, err := cfg.Connect(context.Background())
			if err != nil {
				t.Fatalf("right password: %v", err)
			}
			cl.Close()

			cfg.SASL.Password = "wrong-password-value"
			connectFails(t, cfg, "SASL authentication failed")
		})
	}
}

// TestConnectSASLWithoutTLS: SASL settings without TLS against a SASL_SSL
// listener (a profile written by hand, a forgotten --tls-ca) are told to
// add TLS, not to check a password that was never sent nor that this may
// not be a Kafka port; so is an anonymous PLAINTEXT client.
func TestConnectSASLWithoutTLS(t *testing.T) {
	testkit.ForEachSecureCluster(t, func(t *testing.T, c testkit.SecureCluster) {
		cfg := c.AdminConfig()
		cfg.TLS = kafka.TLS{}
		cfg.Timeout = 5 * time.Second
		connectFails(t, cfg, "requires TLS")
		cfg.SASL = kafka.SASL{} // anonymous PLAINTEXT
		connectFails(t, cfg, "TLS")
	})
}

// TestConnectTLSWithoutSASL: TLS with the right CA but no SASL settings
// against a SASL_SSL listener is told to add SASL, not that the TLS
// handshake (which worked) failed.
func TestConnectTLSWithoutSASL(t *testing.T) {
	testkit.ForEachSecureCluster(t, func(t *testing.T, c testkit.SecureCluster) {
		cfg := c.AdminConfig()
		cfg.SASL = kafka.SASL{}
		cfg.Timeout = 5 * time.Second
		connectFails(t, cfg, "the listener requires SASL: pass --sasl-mechanism")
	})
}

// answering listens on loopback and answers every connection's first read
// with reply, as a server that is not Kafka would; it returns the address.
func answering(t *testing.T, reply []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Read(make([]byte, 512))
			_, _ = c.Write(reply)
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// TestConnectNotKafka is issue 9's twelfth finding: franz-go's raw texts
// about an answer that is not Kafka's protocol get the address and the
// "is this a Kafka port?" framing docs/configuration.md promises.
func TestConnectNotKafka(t *testing.T) {
	const notKafka = ": the server's answer is not Kafka's protocol: is this a Kafka port?"
	for _, tc := range []struct {
		name  string
		reply []byte
		want  string
	}{
		{"http", []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), ": the server answered in HTTP: this is not a Kafka port"},
		{"size too large", []byte{0x7f, 0xff, 0xff, 0xff}, notKafka},
		// A size that fits but a body too short for a response, or one
		// that does not answer the request sent (franz-go: "response did
		// not contain enough data to be valid", "correlation ID mismatch").
		{"empty response", []byte{0, 0, 0, 0}, notKafka},
		{"short response", []byte{0, 0, 0, 2, 'o', 'k'}, notKafka},
		{"another request's answer", []byte{0, 0, 0, 8, 0, 0, 0x12, 0x34, 'a', 'b', 'c', 'd'}, notKafka},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := answering(t, tc.reply)
			connectFails(t, kafka.Config{Brokers: []string{addr}, Timeout: 3 * time.Second}, addr+tc.want)
		})
	}
}

func TestConnectPortNotANumber(t *testing.T) {
	_, err := kafka.Config{Brokers: []string{"127.0.0.1:notaport"}, Timeout: 3 * time.Second}.Connect(context.Background())
	if err == nil || !strings.Contains(err.Error(), "--brokers 127.0.0.1:notaport") || !strings.Contains(err.Error(), "numeric port") {
		t.Fatalf("error %v, want it to name the address and the fix", err)
	}
}
