package cli_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/ksuitetest"
	"github.com/ksuite/ksuite/suite/demo"
)

// apiCall sends a JSON request to a running API.
func apiCall(t *testing.T, method, url string, body any) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(testkit.Context(t, 15*time.Second), method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var apiField = regexp.MustCompile(` api=(http://127\.0\.0\.1:\d+)$`)

// `ksuite up` runs the services on its cluster: the API answers, a sign-up
// reaches signup-event, and the suite-room service learns the member.
func TestUpRunsTheServices(t *testing.T) {
	dir := t.TempDir()
	base := testkit.FreePortBase(t, 3)
	p := startUp(t, "--data-dir", filepath.Join(dir, "data"), "--port-base", strconv.Itoa(base), "--api-listen", "127.0.0.1:0",
		"--topics", writeTopics(t, "topics: []\n"))
	m := apiField.FindStringSubmatch(strings.TrimSpace(p.out.String()))
	if m == nil {
		t.Fatalf("ready line %q has no api field", p.out.String())
	}
	api := m[1]
	if code, body := apiCall(t, "GET", api+"/healthz", nil); code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Fatalf("healthz %d %s", code, body)
	}
	code, body := apiCall(t, "POST", api+"/api/members", map[string]string{"email": "ada@example.com", "name": "Ada", "nickName": "ada"})
	if code != 201 {
		t.Fatalf("sign-up %d %s", code, body)
	}
	var member struct{ MemberID int64 }
	_ = json.Unmarshal([]byte(body), &member)
	// The services' topics exist although the topics file declares none,
	// and the event went through them to the suite-room service.
	out := mustRun(t, "", "consume", "signup-event", "--brokers", bootstrapFor(base, 3), "--from-beginning", "--count", "1")
	if !strings.Contains(out.out, `"email":"ada@example.com"`) {
		t.Fatalf("signup-event holds %q", out.out)
	}
	room := map[string]any{"title": "T", "subject": "s", "hostMemberId": member.MemberID, "recruitmentLimit": 3,
		"depositAmount": 100, "studyDeadline": time.Now().AddDate(0, 1, 0).Format("2006-01-02")}
	ksuitetest.Eventually(t, 30*time.Second, "the room service knows the member", func() bool {
		code, _ := apiCall(t, "POST", api+"/api/suiterooms", room)
		return code == 201
	})
	if _, err := os.Stat(filepath.Join(dir, "suite.db")); err != nil {
		t.Fatalf("the services' database is not beside the data directory: %v", err)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("up exited %d: %s", code, p.err.String())
	}
}

// A busy API port fails `ksuite up` with the flag to change, and leaves
// nothing running: the same broker ports start again at once.
func TestUpAPIPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	base := testkit.FreePortBase(t, 3)
	r := runKsuite(t, "up", "--in-memory", "--port-base", strconv.Itoa(base), "--api-listen", addr, "--topics", writeTopics(t, "topics: []\n"))
	if r.code != 1 || !strings.Contains(r.errOut, "API address "+addr+" is already in use") || !strings.Contains(r.errOut, "--api-listen") {
		t.Fatalf("exit %d, stderr %q", r.code, r.errOut)
	}
	p := startUp(t, "--in-memory", "--port-base", strconv.Itoa(base), "--no-services", "--topics", writeTopics(t, "topics: []\n"))
	if code := p.stop(t); code != 0 {
		t.Fatalf("second up exited %d", code)
	}
}

// serveProcess is a `ksuite serve` running in-process.
type serveProcess struct {
	*cliProcess
	api string
}

func startServe(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{cliProcess: startCLI(t, nil, 60*time.Second, append([]string{"serve"}, args...)...)}
	p.api = strings.TrimSpace(strings.TrimPrefix(p.out.String(), "ready api="))
	return p
}

// `ksuite serve` and `ksuite demo` on a cluster shared under a prefix:
// the driver's traffic runs through the services, and serve stops cleanly.
func TestServeAndDemo(t *testing.T) {
	testkit.ForEachClusterDB(t, func(t *testing.T, c testkit.Cluster, db testkit.DB) {
		kit := ksuitetest.Attach(t, c.Brokers, ksuitetest.TopicsFile("../../topics.yaml"))
		brokers := "--brokers=" + c.Bootstrap()
		p := startServe(t, brokers, "--db", db.DSN, "--api-listen", "127.0.0.1:0", "--topic-prefix", kit.Prefix())
		r := mustRun(t, "", "demo", brokers, "--api", p.api, "--topic-prefix", kit.Prefix(), "--rate", "100/s",
			"--duration", "4s", "--room-lifetime", "100ms", "--output", "json")
		var stats demo.Stats
		if err := json.Unmarshal([]byte(r.out), &stats); err != nil {
			t.Fatalf("demo --output json: %v in %q", err, r.out)
		}
		if stats.Signups == 0 || stats.Rooms == 0 || stats.Errors != 0 {
			t.Fatalf("demo did %+v", stats)
		}
		var n int
		if err := db.QueryRowContext(testkit.Context(t, 10*time.Second), "SELECT count(*) FROM member_members").Scan(&n); err != nil || int64(n) != stats.Signups {
			t.Fatalf("%d members stored for %d sign-ups (%v)", n, stats.Signups, err)
		}
		if code := p.stop(t); code != 0 {
			t.Fatalf("serve exited %d: %s", code, p.err.String())
		}
	})
}

// One service alone serves only its routes, with its own tables.
func TestServeOneService(t *testing.T) {
	c := testkit.NewFake(t)
	kit := ksuitetest.Attach(t, c.Brokers, ksuitetest.TopicsFile("../../topics.yaml"))
	db := testkit.NewSQLite(t)
	p := startServe(t, "member", "--brokers="+c.Bootstrap(), "--db", db.DSN, "--api-listen", "127.0.0.1:0", "--topic-prefix", kit.Prefix())
	if code, _ := apiCall(t, "POST", p.api+"/api/members", map[string]string{"email": "a@b.org", "name": "A", "nickName": "a"}); code != 201 {
		t.Fatalf("sign-up %d", code)
	}
	if code, body := apiCall(t, "GET", p.api+"/api/suiterooms", nil); code != 404 || !strings.Contains(body, "no such resource") {
		t.Fatalf("the member service serves rooms: %d %s", code, body)
	}
	var tables int
	if err := db.QueryRowContext(testkit.Context(t, 10*time.Second),
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'suiteroom%'").Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("%d suite-room tables created by the member service alone (%v)", tables, err)
	}
}

func TestServeAndDemoBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "billing"}, `unknown service "billing": give member or suiteroom, or none to run both`},
		{[]string{"serve", "member", "suiteroom"}, "member suiteroom: give one service (member or suiteroom), or none to run both"},
		{[]string{"serve", "--brokers", "127.0.0.1:1", "--timeout", "1s"}, "cannot connect to Kafka at 127.0.0.1:1"},
		{[]string{"demo", "--rate", "fast"}, `--rate "fast": give calls per second`},
		{[]string{"demo", "--rate", "10/week"}, `--rate "10/week"`},
		{[]string{"demo", "--output", "yaml"}, `--output "yaml": use text or json`},
		{[]string{"demo", "--refund-failure-rate", "2"}, "--refund-failure-rate 2: give a share from 0 to 1"},
		{[]string{"demo", "--contract-failure-rate", "-0.5"}, "--contract-failure-rate -0.5: give a share from 0 to 1"},
		{[]string{"demo", "--brokers", "127.0.0.1:1", "--timeout", "1s"}, "cannot connect to Kafka at 127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runKsuite(t, tt.args...)
			if r.code != 1 || !strings.Contains(r.errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", r.code, r.errOut, tt.want)
			}
		})
	}
}

// On an exposed cluster (SASL_SSL, ACLs) the services run as up's own
// clients, which log in as the admin: a sign-up still reaches the
// suite-room service through Kafka.
func TestUpServicesOnExposedCluster(t *testing.T) {
	base := testkit.FreePortBase(t, 3)
	p := startUp(t, "--external-host", "127.0.0.2", "--listen-address", "127.0.0.2", "--data-dir", t.TempDir(),
		"--port-base", strconv.Itoa(base), "--api-listen", "127.0.0.1:0", "--topics", writeTopics(t, "topics: []\n"))
	line := strings.TrimSpace(p.out.String())
	m := regexp.MustCompile(` security=SASL_SSL api=(http://127\.0\.0\.1:\d+)$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("ready line %q, want security= then api=", line)
	}
	code, body := apiCall(t, "POST", m[1]+"/api/members", map[string]string{"email": "ada@example.com", "name": "Ada", "nickName": "ada"})
	if code != 201 {
		t.Fatalf("sign-up %d %s", code, body)
	}
	var member struct{ MemberID int64 }
	_ = json.Unmarshal([]byte(body), &member)
	room := map[string]any{"title": "T", "subject": "s", "hostMemberId": member.MemberID, "recruitmentLimit": 3,
		"depositAmount": 100, "studyDeadline": time.Now().AddDate(0, 1, 0).Format("2006-01-02")}
	ksuitetest.Eventually(t, 30*time.Second, "the sign-up reached the suite-room service", func() bool {
		code, _ := apiCall(t, "POST", m[1]+"/api/suiterooms", room)
		return code == 201
	})
}
