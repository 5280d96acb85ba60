package expose

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPrepare(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string // error; "" for none
		nil  bool   // nothing exposed
	}{
		{name: "loopback", o: Options{}, nil: true},
		{name: "insecure without host", o: Options{Insecure: true}, want: "only applies with --external-host"},
		{name: "listen without host", o: Options{ListenAddress: "0.0.0.0"}, want: "goes with --external-host"},
		{name: "in memory", o: Options{Host: "h"}, want: "drop --in-memory"},
		{name: "insecure in memory", o: Options{Host: "h", Insecure: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Prepare(tt.o)
			switch {
			case tt.want != "":
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want %q", err, tt.want)
				}
			case err != nil:
				t.Fatal(err)
			case tt.nil != (s == nil):
				t.Fatalf("setup %+v", s)
			}
		})
	}
}

// TestPrepareBadFlags: a bad --external-host or --listen-address is refused
// before anything is written, so the next start is still the first one.
func TestPrepareBadFlags(t *testing.T) {
	for _, o := range []Options{
		{Host: "bad host"},
		{Host: "kafka.example.com:9091"},
		{Host: "kafka.example.com", ListenAddress: "eth0"},
	} {
		o.DataDir, o.Getenv = t.TempDir(), env(nil)
		if _, err := Prepare(o); err == nil {
			t.Fatalf("%+v accepted", o)
		}
		if entries, _ := os.ReadDir(o.DataDir); len(entries) > 0 {
			t.Errorf("%+v refused, but wrote %s in the data directory", o, entries[0].Name())
		}
	}
}

// TestPrepareRestrictsCredentials: a sasl.json left readable by all (by
// kfake before patch 0020) is made private on the next exposed start.
func TestPrepareRestrictsCredentials(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "sasl.json")
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(Options{DataDir: dir, Host: "kafka.example.com", Getenv: env(nil)}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("sasl.json left at %v", st.Mode().Perm())
	}
}

func TestAdminPassword(t *testing.T) {
	dir := t.TempDir()
	o := Options{DataDir: dir, Host: "kafka.example.com", ListenAddress: "10.0.0.5", Getenv: env(nil)}
	first, err := Prepare(o)
	if err != nil {
		t.Fatal(err)
	}
	pw := first.External.AdminPassword
	if !first.FirstStart || first.PasswordFromEnv || len(pw) < 24 || first.PasswordPath != filepath.Join(dir, PasswordFile) {
		t.Fatalf("first start: %+v", first)
	}
	if runtime.GOOS != "windows" {
		if err := os.Chmod(first.PasswordPath, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A start that never reached ready (nothing called NoticeShown) leaves
	// the operator uninformed: the next one is still the first.
	retry, err := Prepare(o)
	if err != nil {
		t.Fatal(err)
	}
	if !retry.FirstStart || retry.External.AdminPassword != pw {
		t.Fatalf("start after a failed first start: first=%v, same password=%v", retry.FirstStart, retry.External.AdminPassword == pw)
	}
	if err := retry.NoticeShown(); err != nil {
		t.Fatal(err)
	}
	again, err := Prepare(o)
	if err != nil {
		t.Fatal(err)
	}
	if again.FirstStart || again.External.AdminPassword != pw {
		t.Fatalf("second start: first=%v, same password=%v", again.FirstStart, again.External.AdminPassword == pw)
	}
	if st, _ := os.Stat(first.PasswordPath); runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("password file left at %v", st.Mode().Perm())
	}
	leaf := again.External.TLS
	if leaf == nil || again.External.CAFile != filepath.Join(dir, TLSDir, "ca.pem") {
		t.Fatalf("TLS not set up: %+v", again.External)
	}
	notice := first.Notice(9091, 3)
	for _, want := range []string{"kafka.example.com:9091-9093", first.CAPath, first.PasswordPath, "$(cat " + first.PasswordPath + ")"} {
		if !strings.Contains(notice, want) {
			t.Errorf("notice lacks %q:\n%s", want, notice)
		}
	}
	if strings.Contains(notice, pw) {
		t.Fatal("the notice holds the password")
	}
	if err := os.Remove(first.PasswordPath); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(o); err == nil || !strings.Contains(err.Error(), "set KSUITE_ADMIN_PASSWORD") {
		t.Fatalf("lost password file: %v", err)
	}
	o.Getenv = env(map[string]string{PasswordEnv: "from-env"})
	s, err := Prepare(o)
	if err != nil || s.External.AdminPassword != "from-env" || !s.PasswordFromEnv || s.PasswordPath != "" {
		t.Fatalf("env password: %+v %v", s, err)
	}
}

func TestCertHosts(t *testing.T) {
	got := strings.Join(certHosts("kafka.example.com", "10.0.0.5"), ",")
	if got != "kafka.example.com,localhost,127.0.0.1,::1,10.0.0.5" {
		t.Fatalf("hosts %s", got)
	}
	if got := strings.Join(certHosts("h", "0.0.0.0"), ","); got != "h,localhost,127.0.0.1,::1" {
		t.Fatalf("wildcard listen address in the certificate: %s", got)
	}
}
