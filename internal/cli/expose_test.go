package cli_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
)

// exposedUp is a `ksuite up --external-host` running in-process.
type exposedUp struct {
	*cliProcess
	args    []string
	dataDir string
	host    string
	base    int
}

// startExposed starts ksuite up exposed at host (listening there too, so
// tests stay on loopback) with a fresh data directory and topics file.
func startExposed(t *testing.T, host string, topicsYAML string, extra ...string) *exposedUp {
	t.Helper()
	u := &exposedUp{dataDir: t.TempDir(), host: host, base: testkit.FreePortBase(t, 3)}
	u.args = append([]string{"--external-host", host, "--listen-address", host, "--data-dir", u.dataDir,
		"--port-base", strconv.Itoa(u.base), "--topics", writeTopics(t, topicsYAML), "--no-services"}, extra...)
	u.cliProcess = startUp(t, u.args...)
	return u
}

// restart stops up and starts it again on the same data directory.
func (u *exposedUp) restart(t *testing.T) {
	t.Helper()
	if code := u.stop(t); code != 0 {
		t.Fatalf("up exited %d: %s", code, u.err.String())
	}
	u.cliProcess = startUp(t, u.args...)
}

func (u *exposedUp) bootstrap() string {
	addrs := make([]string, 3)
	for i := range addrs {
		addrs[i] = u.host + ":" + strconv.Itoa(u.base+i)
	}
	return strings.Join(addrs, ",")
}

func (u *exposedUp) caFile() string { return filepath.Join(u.dataDir, "tls", "ca.pem") }

func (u *exposedUp) adminPassword(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(mustRead(t, filepath.Join(u.dataDir, "admin.password")))
}

// env is how user reaches the cluster: SASL_SSL with the generated CA.
func (u *exposedUp) env(user, password string) map[string]string {
	return map[string]string{
		"KSUITE_BROKERS": u.bootstrap(), "KSUITE_SASL_MECHANISM": "SCRAM-SHA-512",
		"KSUITE_SASL_USERNAME": user, "KSUITE_SASL_PASSWORD": password, "KSUITE_TLS_CA": u.caFile(),
		"KSUITE_TIMEOUT": "5s",
	}
}

// kcat runs kcat with the documented -X settings and stdin; it returns
// stdout, stderr and whether it exited 0.
func (u *exposedUp) kcat(t *testing.T, user, password, stdin string, args ...string) (string, string, bool) {
	t.Helper()
	return runKcat(t, stdin, append([]string{"-b", u.bootstrap(),
		"-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=SCRAM-SHA-512",
		"-X", "sasl.username=" + user, "-X", "sasl.password=" + password,
		"-X", "ssl.ca.location=" + u.caFile()}, args...)...)
}

func runKcat(t *testing.T, stdin string, args ...string) (string, string, bool) {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv(testkit.EnvRequireKafka) == "1" {
			t.Fatal("kcat is not installed (make test installs it)")
		}
		t.Skip("kcat is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("kcat: %v", err)
	}
	return out.String(), errOut.String(), err == nil
}

const exposedTopics = `topics:
  - name: orders
    partitions: 1
    replication-factor: 1
  - name: payments
    partitions: 1
    replication-factor: 1
`

// TestUpExternalHost is the exposed cluster end to end: what the ready
// line, the data directory and stderr promise, kcat and ksuite over
// SASL_SSL, and the ways a client is refused.
func TestUpExternalHost(t *testing.T) {
	u := startExposed(t, "127.0.0.2", exposedTopics)
	if got, want := u.out.String(), "ready bootstrap="+u.bootstrap()+" security=SASL_SSL\n"; got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
	password := u.adminPassword(t)
	if runtime.GOOS != "windows" {
		if st, err := os.Stat(filepath.Join(u.dataDir, "admin.password")); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("admin.password: %v %v, want mode 0600", err, st.Mode())
		}
	}
	if len(password) < 24 {
		t.Fatalf("generated admin password has %d characters", len(password))
	}
	notice := u.err.String()
	for _, want := range []string{u.caFile(), filepath.Join(u.dataDir, "admin.password"), "SASL_SSL", "ACLs are on", "ksuite profile export"} {
		if !strings.Contains(notice, want) {
			t.Fatalf("first start does not tell %q:\n%s", want, notice)
		}
	}
	if strings.Contains(notice, password) {
		t.Fatal("up printed the admin password")
	}
	// The notice's commands work as printed: the exported profile names
	// this cluster's ports, and the new user's password is piped in.
	var exported bool
	for _, line := range strings.Split(notice, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "ksuite profile export") && strings.HasSuffix(line, "> admin.yaml"):
			args := strings.Fields(strings.TrimSuffix(line, "> admin.yaml"))[1:]
			r := runKsuite(t, args...)
			if r.code != 0 || !strings.Contains(r.out, strings.ReplaceAll(u.bootstrap(), ",", "', '")) {
				t.Fatalf("%s: exit %d, a profile without this cluster's brokers %s:\n%s%s", line, r.code, u.bootstrap(), r.out, r.errOut)
			}
			exported = true
		case strings.Contains(line, "--password-stdin") && !strings.Contains(line, "| "):
			t.Fatalf("the notice's %q gives --password-stdin nothing to read", line)
		}
	}
	if !exported {
		t.Fatalf("the notice has no profile export line:\n%s", notice)
	}

	admin := u.env("admin", password)
	if r := runStdin(t, "from-ksuite\n", admin, "produce", "orders"); r.code != 0 {
		t.Fatalf("ksuite produce as admin: exit %d: %s", r.code, r.errOut)
	}
	if _, errOut, ok := u.kcat(t, "admin", password, "from-kcat\n", "-P", "-t", "orders"); !ok {
		t.Fatalf("kcat -P: %s", errOut)
	}
	out, errOut, ok := u.kcat(t, "admin", password, "", "-C", "-t", "orders", "-o", "beginning", "-c", "2", "-e")
	if !ok || out != "from-ksuite\nfrom-kcat\n" {
		t.Fatalf("kcat -C: %q %s", out, errOut)
	}
	if r := runStdin(t, "", admin, "consume", "orders", "--from-beginning", "--count", "2"); r.code != 0 || r.out != "from-ksuite\nfrom-kcat\n" {
		t.Fatalf("ksuite consume: exit %d %q %s", r.code, r.out, r.errOut)
	}

	t.Run("anonymous PLAINTEXT is refused", func(t *testing.T) {
		start := time.Now()
		r := runStdin(t, "", map[string]string{"KSUITE_BROKERS": u.bootstrap(), "KSUITE_TIMEOUT": "5s"}, "consume", "orders", "--count", "1")
		if r.code != 1 || !strings.Contains(r.errOut, "cannot connect to Kafka at 127.0.0.2:") || time.Since(start) > 10*time.Second {
			t.Fatalf("exit %d after %s: %s", r.code, time.Since(start), r.errOut)
		}
		if _, errOut, ok := runKcat(t, "", "-L", "-b", u.bootstrap(), "-m", "2"); ok {
			t.Fatalf("kcat without SASL_SSL got metadata: %s", errOut)
		}
	})
	t.Run("a wrong password fails fast and says so", func(t *testing.T) {
		start := time.Now()
		r := runStdin(t, "", u.env("admin", "wrong-password"), "consume", "orders", "--count", "1")
		if r.code != 1 || !strings.Contains(r.errOut, "SASL authentication failed: check --sasl-username/--sasl-password") || time.Since(start) > 5*time.Second {
			t.Fatalf("exit %d after %s: %s", r.code, time.Since(start), r.errOut)
		}
		if _, errOut, ok := u.kcat(t, "admin", "wrong-password", "", "-L", "-m", "2"); ok || !strings.Contains(errOut, "invalid credentials with SASL mechanism SCRAM-SHA-512") {
			t.Fatalf("kcat with a wrong password: ok=%v %s", ok, errOut)
		}
	})
	t.Run("an untrusted CA fails fast and says so", func(t *testing.T) {
		env := u.env("admin", password)
		delete(env, "KSUITE_TLS_CA")
		env["KSUITE_TLS"] = "true" // the system's CAs
		start := time.Now()
		r := runStdin(t, "", env, "consume", "orders", "--count", "1")
		if r.code != 1 || !strings.Contains(r.errOut, "TLS certificate not trusted: pass the cluster's CA with --tls-ca") || time.Since(start) > 5*time.Second {
			t.Fatalf("exit %d after %s: %s", r.code, time.Since(start), r.errOut)
		}
		if _, errOut, ok := runKcat(t, "", "-L", "-b", u.bootstrap(), "-m", "2", "-X", "security.protocol=SASL_SSL",
			"-X", "sasl.mechanisms=SCRAM-SHA-512", "-X", "sasl.username=admin", "-X", "sasl.password="+password); ok || !strings.Contains(errOut, "certificate verify failed") {
			t.Fatalf("kcat without the CA: ok=%v %s", ok, errOut)
		}
	})
}

// TestUpExternalHostUsersAndACLs: up applies the topics file's ACLs at
// start; a new user can do nothing it is not granted and exactly what it
// is; users and ACLs survive a restart, and only the first start tells
// where the secrets are.
func TestUpExternalHostUsersAndACLs(t *testing.T) {
	u := startExposed(t, "127.0.0.2", exposedTopics+`acls:
  - principal: User:alice
    resource: topic
    name: orders
    operations: [write, read, describe]
  - principal: User:alice
    resource: group
    name: billing
    operations: [read]
`)
	admin := u.env("admin", u.adminPassword(t))
	for _, user := range []string{"alice", "bob"} {
		if r := runStdin(t, user+"-pw\n", admin, "users", "add", user, "--password-stdin"); r.code != 0 {
			t.Fatalf("users add %s: %s", user, r.errOut)
		}
	}
	// The persisted credentials hold what a client proof is computed from.
	if runtime.GOOS != "windows" {
		if st, err := os.Stat(filepath.Join(u.dataDir, "sasl.json")); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("sasl.json: %v, mode %v; want 0600", err, st.Mode().Perm())
		}
	}
	alice, bob := u.env("alice", "alice-pw"), u.env("bob", "bob-pw")
	check := func(when string) {
		t.Helper()
		if r := runStdin(t, "", alice, "produce", "orders", "--value", "order-"+when); r.code != 0 {
			t.Fatalf("%s: alice cannot produce to orders: %s", when, r.errOut)
		}
		if r := runStdin(t, "", alice, "consume", "orders", "--group", "billing", "--count", "1", "--from-beginning"); r.code != 0 || !strings.HasPrefix(r.out, "order-") {
			t.Fatalf("%s: alice cannot consume orders as billing: exit %d %q %s", when, r.code, r.out, r.errOut)
		}
		for _, d := range []struct {
			env  map[string]string
			args []string
			want string
		}{
			{alice, []string{"produce", "payments", "--value", "x"}, "TOPIC_AUTHORIZATION_FAILED"},
			{alice, []string{"consume", "orders", "--group", "other", "--count", "1"}, "GROUP_AUTHORIZATION_FAILED"},
			{bob, []string{"produce", "orders", "--value", "x"}, "TOPIC_AUTHORIZATION_FAILED"},
		} {
			if r := runStdin(t, "", d.env, d.args...); r.code == 0 || !strings.Contains(r.errOut, d.want) {
				t.Fatalf("%s: %s %v: exit %d %q, want %s", when, d.env["KSUITE_SASL_USERNAME"], d.args, r.code, r.errOut, d.want)
			}
		}
	}
	check("before restart")
	// Restart with a file that declares no ACLs: what alice may do now
	// comes from what the cluster kept, not from a second apply.
	u.args[slices.Index(u.args, "--topics")+1] = writeTopics(t, exposedTopics)
	u.restart(t)
	if strings.Contains(u.err.String(), "exposed at") || strings.Contains(u.err.String(), "admin.password") {
		t.Fatalf("a later start repeats the first-start notice:\n%s", u.err.String())
	}
	check("after restart")
}

// TestUpFirstStartNoticeAfterFailedStart: a first start that creates the
// CA and the password but fails before ready (a port in use) does not
// use up the notice: the next start that is ready shows it, once.
func TestUpFirstStartNoticeAfterFailedStart(t *testing.T) {
	dataDir := t.TempDir()
	base := testkit.FreePortBase(t, 3)
	args := []string{"--external-host", "127.0.0.2", "--listen-address", "127.0.0.2", "--data-dir", dataDir,
		"--port-base", strconv.Itoa(base), "--topics", writeTopics(t, "topics: []\n"), "--no-services"}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.2", strconv.Itoa(base+1)))
	if err != nil {
		t.Fatal(err)
	}
	r := runKsuite(t, append([]string{"up"}, args...)...)
	ln.Close()
	if r.code != 1 || !strings.Contains(r.errOut, "already in use") {
		t.Fatalf("up with a port in use: exit %d: %s", r.code, r.errOut)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "admin.password")); err != nil {
		t.Fatalf("the failed start made no password, so this test proves nothing: %v", err)
	}
	p := startUp(t, args...)
	if !strings.Contains(p.err.String(), "exposed at 127.0.0.2:") || !strings.Contains(p.err.String(), filepath.Join(dataDir, "admin.password")) {
		t.Fatalf("the first start that is ready does not tell where the secrets are:\n%s", p.err.String())
	}
	p.stop(t)
	p = startUp(t, args...)
	if strings.Contains(p.err.String(), "exposed at") {
		t.Fatalf("a later start repeats the notice:\n%s", p.err.String())
	}
}

// TestUpExternalHostAdminPasswordFromEnv: KSUITE_ADMIN_PASSWORD sets the
// admin password on first start, and no password file is written.
func TestUpExternalHostAdminPasswordFromEnv(t *testing.T) {
	dataDir := t.TempDir()
	base := testkit.FreePortBase(t, 3)
	env := map[string]string{"KSUITE_ADMIN_PASSWORD": "chosen-admin-secret"}
	args := []string{"--external-host", "127.0.0.2", "--listen-address", "127.0.0.2", "--data-dir", dataDir,
		"--port-base", strconv.Itoa(base), "--topics", writeTopics(t, "topics: []\n"), "--no-services"}
	p := startUpEnv(t, env, args...)
	if _, err := os.Stat(filepath.Join(dataDir, "admin.password")); !os.IsNotExist(err) {
		t.Fatalf("admin.password written although KSUITE_ADMIN_PASSWORD was set: %v", err)
	}
	if strings.Contains(p.err.String(), "chosen-admin-secret") {
		t.Fatal("up printed the admin password")
	}
	u := &exposedUp{dataDir: dataDir, host: "127.0.0.2", base: base}
	if r := runStdin(t, "", u.env("admin", "chosen-admin-secret"), "users", "list"); r.code != 0 {
		t.Fatalf("admin with KSUITE_ADMIN_PASSWORD: %s", r.errOut)
	}
	p.stop(t)
	// Without it on a later start, up says where the password went.
	r := runKsuite(t, append([]string{"up"}, args...)...)
	if r.code != 1 || !strings.Contains(r.errOut, "set KSUITE_ADMIN_PASSWORD to the admin password this cluster was first started with") {
		t.Fatalf("later start without the password: exit %d: %s", r.code, r.errOut)
	}
}

// TestUpExposesAnExistingDataDir: a data directory first used on loopback
// can be exposed later; the admin still logs in.
func TestUpExposesAnExistingDataDir(t *testing.T) {
	dataDir := t.TempDir()
	base := testkit.FreePortBase(t, 3)
	topics := writeTopics(t, exposedTopics)
	p := startUp(t, "--data-dir", dataDir, "--port-base", strconv.Itoa(base), "--topics", topics, "--no-services")
	if code := p.stop(t); code != 0 {
		t.Fatalf("up exited %d", code)
	}
	p = startUp(t, "--external-host", "127.0.0.2", "--listen-address", "127.0.0.2", "--data-dir", dataDir, "--port-base", strconv.Itoa(base), "--topics", topics, "--no-services")
	if !strings.HasSuffix(strings.TrimSpace(p.out.String()), "security=SASL_SSL") {
		t.Fatalf("ready line %q", p.out.String())
	}
}

// TestUpUnreachableExternalHost: up's own clients dial the listen
// addresses, so up is ready and applies its topics even when the
// advertised host answers nothing; doctor then names the broker and the fix.
func TestUpUnreachableExternalHost(t *testing.T) {
	dataDir := t.TempDir()
	base := testkit.FreePortBase(t, 3)
	startUp(t, "--external-host", "127.0.0.9", "--listen-address", "127.0.0.1", "--data-dir", dataDir,
		"--port-base", strconv.Itoa(base), "--topics", writeTopics(t, exposedTopics), "--no-services")
	password := strings.TrimSpace(mustRead(t, filepath.Join(dataDir, "admin.password")))
	env := map[string]string{
		"KSUITE_BROKERS": "127.0.0.1:" + strconv.Itoa(base), "KSUITE_SASL_MECHANISM": "SCRAM-SHA-512",
		"KSUITE_SASL_USERNAME": "admin", "KSUITE_SASL_PASSWORD": password,
		"KSUITE_TLS_CA": filepath.Join(dataDir, "tls", "ca.pem"), "KSUITE_TIMEOUT": "3s",
	}
	r := runStdin(t, "", env, "doctor")
	for _, want := range []string{
		"✓ bootstrap: ",
		"✗ broker 0: advertises 127.0.0.9:" + strconv.Itoa(base) + ", which does not answer from here: connection refused",
		"fix: advertise an address clients can reach: restart ksuite up with --external-host",
	} {
		if !strings.Contains(r.out, want) {
			t.Fatalf("doctor output lacks %q:\n%s", want, r.out)
		}
	}
	if r.code != 1 {
		t.Fatalf("doctor exit %d, want 1", r.code)
	}
}

// TestUpInsecurePlaintext: PLAINTEXT on an external address takes a flag,
// warns on every start, and doctor fails it.
func TestUpInsecurePlaintext(t *testing.T) {
	u := startExposed(t, "127.0.0.2", "topics: []\n", "--insecure-plaintext")
	if got, want := u.out.String(), "ready bootstrap="+u.bootstrap()+" security=PLAINTEXT\n"; got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
	for range 2 {
		if !strings.Contains(u.err.String(), "--insecure-plaintext: the brokers take PLAINTEXT without authentication or ACLs") {
			t.Fatalf("no warning:\n%s", u.err.String())
		}
		u.restart(t)
	}
	r := runKsuite(t, "doctor", "--brokers", u.bootstrap())
	if r.code != 1 || !strings.Contains(r.out, "✗ exposure: the brokers advertise 127.0.0.2:") || !strings.Contains(r.out, "anyone who reaches this port can read and write every topic") {
		t.Fatalf("doctor: exit %d\n%s", r.code, r.out)
	}
}

func TestUpExposeFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--insecure-plaintext"}, "--insecure-plaintext only applies with --external-host"},
		{[]string{"--listen-address", "0.0.0.0"}, "--listen-address 0.0.0.0 goes with --external-host"},
		{[]string{"--external-host", "127.0.0.2", "--in-memory"}, "drop --in-memory"},
		{[]string{"--external-host", "127.0.0.2:9091", "--data-dir", t.TempDir()}, "without a port"},
		// A missing topics file makes a regression fail fast instead of
		// starting a cluster.
		{[]string{"--external-host", "", "--data-dir", t.TempDir(), "--topics", filepath.Join(t.TempDir(), "missing.yaml")}, "--external-host is empty"},
		{[]string{"--external-host", "bad host", "--in-memory"}, "neither an IP address nor a host name"},
		{[]string{"--external-host", "127.0.0.2", "--listen-address", "eth0", "--data-dir", t.TempDir()}, "is not an IP address"},
		// An address this machine does not have (a documentation address:
		// binding fails locally, nothing is sent).
		{[]string{"--external-host", "127.0.0.2", "--listen-address", "192.0.2.1", "--data-dir", t.TempDir(), "--port-base", strconv.Itoa(testkit.FreePortBase(t, 3))},
			"cannot listen on 192.0.2.1: it is not an address of this machine: give --listen-address 0.0.0.0"},
		{[]string{"--external-host", "127.0.0.2", "--brokers", "127.0.0.1:1", "--data-dir", t.TempDir()}, "does not go with --brokers"},
	}
	for _, tt := range tests {
		r := runKsuite(t, append([]string{"up"}, tt.args...)...)
		if r.code != 1 || !strings.Contains(r.errOut, tt.want) {
			t.Errorf("up %v: exit %d, %q; want %q", tt.args, r.code, r.errOut, tt.want)
		}
	}
}

// TestJavaClientWithExportedProfile: kafka-clients (the harness's jars)
// reads with exactly what `ksuite profile export --format properties`
// writes, on the exposed embedded cluster and on Apache Kafka.
func TestJavaClientWithExportedProfile(t *testing.T) {
	classpath := os.Getenv("KSUITE_TEST_KAFKA_CLASSPATH")
	java, err := exec.LookPath("java")
	if classpath == "" || err != nil {
		if os.Getenv(testkit.EnvRequireKafka) == "1" {
			t.Fatal("KSUITE_TEST_KAFKA_CLASSPATH or java is missing (make test sets them up)")
		}
		t.Skip("no Kafka jars (KSUITE_TEST_KAFKA_CLASSPATH) or no java")
	}
	type target struct {
		name           string
		env            map[string]string // the admin's
		exportArgs     []string
		bootstrap      string
		user, password string
		topic, group   string
	}
	var targets []target

	u := startExposed(t, "127.0.0.2", exposedTopics+`acls:
  - {principal: User:java, resource: topic, name: orders, operations: [read]}
  - {principal: User:java, resource: group, name: java-client, operations: [read]}
`)
	admin := u.env("admin", u.adminPassword(t))
	if r := runStdin(t, "java-pw\n", admin, "users", "add", "java", "--password-stdin"); r.code != 0 {
		t.Fatal(r.errOut)
	}
	targets = append(targets, target{name: "up", env: admin, bootstrap: u.bootstrap(), user: "java", password: "java-pw", topic: "orders", group: "java-client",
		exportArgs: []string{"--external-host", "127.0.0.2", "--port-base", strconv.Itoa(u.base), "--data-dir", u.dataDir}})

	if c, ok := testkit.RealKafkaSecure(t); ok {
		user, password := c.NewUser(t)
		topic := c.CreateTopic(t, 1, 1)
		group := "java-client-" + testkit.RandomSuffix()
		grant(t, c, "User:"+user, topic, group)
		_, port, _ := strings.Cut(c.Brokers[0], ":")
		targets = append(targets, target{name: "kafka", env: secureEnv(c, testkit.AdminUser, c.AdminPassword), bootstrap: strings.Join(c.Brokers, ","),
			user: user, password: password, topic: topic, group: group,
			exportArgs: []string{"--external-host", "127.0.0.1", "--port-base", port, "--ca", c.CAFile}})
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			if r := runStdin(t, "from-ksuite\n", tg.env, "produce", tg.topic); r.code != 0 {
				t.Fatal(r.errOut)
			}
			r := runKsuite(t, append([]string{"profile", "export", "--user", tg.user, "--format", "properties"}, tg.exportArgs...)...)
			if r.code != 0 {
				t.Fatal(r.errOut)
			}
			props := filepath.Join(t.TempDir(), "client.properties")
			if err := os.WriteFile(props, []byte(r.out), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, java, "-cp", classpath, "org.apache.kafka.tools.consumer.ConsoleConsumer",
				"--bootstrap-server", tg.bootstrap, "--topic", tg.topic, "--group", tg.group, "--from-beginning",
				"--max-messages", "1", "--timeout-ms", "60000", "--command-config", props)
			cmd.Env = append(os.Environ(), "KSUITE_SASL_PASSWORD="+tg.password)
			var out, errOut strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil || out.String() != "from-ksuite\n" {
				t.Fatalf("Java ConsoleConsumer: %v, stdout %q\nstderr:\n%s", err, out.String(), errOut.String())
			}
		})
	}
}
