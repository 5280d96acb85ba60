package javacompat

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
)

// envClasspath holds the harness's Kafka jars as a java -cp value; the test
// command sets it from test/kafka/cluster.sh classpath.
const envClasspath = "KSUITE_TEST_KAFKA_CLASSPATH"

// commandTimeout bounds one tool run: the slowest (a consumer joining its
// group, the perf tools) take a few seconds.
const commandTimeout = 90 * time.Second

// cluster is one cluster the suite runs against.
type cluster struct {
	name      string
	bootstrap string
	real      bool
}

// clusters is `ksuite up` (the binary, in memory, on free ports) and, when
// the test command started it, the real cluster.
func clusters(t *testing.T) []cluster {
	t.Helper()
	out := []cluster{{name: "ksuite-up", bootstrap: ksuiteUp(t)}}
	if real, ok := testkit.RealKafka(t); ok {
		out = append(out, cluster{name: "kafka", bootstrap: real.Bootstrap(), real: true})
	}
	return out
}

// testkit is c for testkit's helpers (WaitTopic).
func (c cluster) testkit() testkit.Cluster {
	return testkit.Cluster{Name: c.name, Brokers: strings.Split(c.bootstrap, ","), Real: c.real}
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
	ksuiteBin string
	classDir  string
	classpath string
)

// TestMain stops the suite's JVM and removes what it built.
func TestMain(m *testing.M) {
	code := m.Run()
	if toolRunner != nil {
		toolRunner.stop()
	}
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// build compiles, once per test binary, the ksuite binary and the Java
// sources against the harness's jars. Without java it skips, unless the
// test command requires the real cluster (and so Java) with
// KSUITE_REQUIRE_KAFKA=1.
func build(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"java", "javac"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv(testkit.EnvRequireKafka) == "1" {
				t.Fatalf("%s is not on PATH but %s=1: install a JDK 17 (scripts/test.sh does)", tool, testkit.EnvRequireKafka)
			}
			t.Skipf("%s is not on PATH: the Java compatibility suite needs a JDK", tool)
		}
	}
	buildOnce.Do(func() { buildErr = buildAll() })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

func buildAll() error {
	var err error
	if buildDir, err = os.MkdirTemp("", "ksuite-javacompat-"); err != nil {
		return err
	}
	classpath = os.Getenv(envClasspath)
	if classpath == "" {
		out, err := exec.Command("../kafka/cluster.sh", "classpath").Output()
		if err != nil {
			return fmt.Errorf("%s is empty and test/kafka/cluster.sh classpath failed: %w", envClasspath, err)
		}
		classpath = strings.TrimSpace(string(out))
	}
	if err := checkKafkaVersion(classpath); err != nil {
		return err
	}
	if ksuiteBin, err = testkit.BuildKsuite(buildDir); err != nil {
		return err
	}
	classDir = filepath.Join(buildDir, "classes")
	sources, err := filepath.Glob("java/*.java")
	if err != nil || len(sources) == 0 {
		return fmt.Errorf("no Java sources in java/: %v", err)
	}
	args := append([]string{"-Xlint:all", "-Werror", "-cp", classpath, "-d", classDir}, sources...)
	if out, err := exec.Command("javac", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("javac: %v\n%s", err, out)
	}
	return nil
}

// kafkaVersion is the release of the harness's jars (test/kafka/pom.xml)
// the Java sources are written against.
const kafkaVersion = "4.4.0"

// checkKafkaVersion turns jars of another Kafka release (a harness fetched
// before pom.xml moved) into one clear error instead of javac's.
func checkKafkaVersion(classpath string) error {
	for _, entry := range filepath.SplitList(classpath) {
		jars, _ := filepath.Glob(filepath.Join(filepath.Dir(entry), "kafka-clients-*.jar"))
		for _, jar := range jars {
			if v := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(jar), "kafka-clients-"), ".jar"); v != kafkaVersion {
				return fmt.Errorf("%s holds Kafka %s jars; the suite needs %s: run test/kafka/cluster.sh classpath (it refetches them) or restart the test cluster", entry, v, kafkaVersion)
			}
			return nil
		}
	}
	return fmt.Errorf("no kafka-clients jar on %s=%q", envClasspath, classpath)
}

// ksuiteUp runs `ksuite up --in-memory` with flags until the test ends and
// returns its bootstrap list.
func ksuiteUp(t *testing.T, flags ...string) string {
	t.Helper()
	return testkit.StartUp(t, ksuiteBin, flags...)
}

// jvm is one ToolRunner JVM: it runs commands one after another.
type jvm struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	in     *json.Encoder
	out    *json.Decoder
	stderr syncBuffer
	exited chan struct{}
}

// request and result are ToolRunner's protocol.
type request struct {
	Main  string   `json:"main"`
	Args  []string `json:"args"`
	Stdin string   `json:"stdin,omitempty"`
}

type result struct {
	Exit int    `json:"exit"`
	Out  string `json:"out"`
	Err  string `json:"err"`
}

// toolRunner is the suite's one JVM, started by the first test that needs
// it and stopped by TestMain: every command after the first finds Kafka's
// classes loaded and compiled.
var toolRunner *jvm

// sharedJVM returns the suite's JVM, starting it (again, if a command that
// hung killed it).
func sharedJVM(t *testing.T) *jvm {
	t.Helper()
	if toolRunner != nil && toolRunner.alive() {
		return toolRunner
	}
	j := &jvm{cmd: exec.Command("java", "-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dlog4j2.configurationFile="+mustAbs(t, "java/log4j2-tools.properties"),
		"-cp", classDir+string(os.PathListSeparator)+classpath, "ToolRunner"), exited: make(chan struct{})}
	j.cmd.Stderr = &j.stderr
	stdin, err := j.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := j.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := j.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	j.stdin, j.in, j.out = stdin, json.NewEncoder(stdin), json.NewDecoder(stdout)
	go func() { _ = j.cmd.Wait(); close(j.exited) }()
	toolRunner = j
	return j
}

func (j *jvm) alive() bool {
	select {
	case <-j.exited:
		return false
	default:
		return true
	}
}

// stop ends the JVM: ToolRunner exits at the end of its input.
func (j *jvm) stop() {
	_ = j.stdin.Close()
	select {
	case <-j.exited:
	case <-time.After(10 * time.Second):
		_ = j.cmd.Process.Kill()
		<-j.exited
	}
}

// run runs main with args (and stdin) in the JVM. A command that does not
// answer within commandTimeout kills the JVM and fails the test.
func (j *jvm) run(t *testing.T, req request) result {
	t.Helper()
	if err := j.in.Encode(req); err != nil {
		t.Fatalf("ToolRunner is gone (%v); its stderr: %s", err, j.stderr.String())
	}
	answer := make(chan error, 1)
	var res result
	go func() { answer <- j.out.Decode(&res) }()
	select {
	case err := <-answer:
		if err != nil {
			t.Fatalf("ToolRunner answered no result (%v); its stderr: %s", err, j.stderr.String())
		}
		return res
	case <-time.After(commandTimeout):
		_ = j.cmd.Process.Kill()
		t.Fatalf("%s %s did not end within %s", req.Main, strings.Join(req.Args, " "), commandTimeout)
		return result{}
	}
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
