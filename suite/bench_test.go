package suite_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/ksuitetest"
	"github.com/ksuite/ksuite/suite"
	"github.com/ksuite/ksuite/suite/events"
	"github.com/ksuite/ksuite/suite/member"
)

// The benchmarks run on every cluster and database there is, each with a
// fresh cluster (or prefix), database and service. Run them with a fixed
// count, e.g.:
//
//	go test -run '^$' -bench BenchmarkJoins -benchtime 100000x ./suite
//	go test -run '^$' -bench BenchmarkSignupLatency -benchtime 10000x ./suite

// benchEnvs runs fn for every cluster × database.
func benchEnvs(b *testing.B, fn func(b *testing.B, kit func(b *testing.B) *ksuitetest.Kafka, db func(b *testing.B) testkit.DB)) {
	clusters := []struct {
		name string
		kit  func(b *testing.B) *ksuitetest.Kafka
	}{{"kfake", func(b *testing.B) *ksuitetest.Kafka { return ksuitetest.Start(b, ksuitetest.TopicsFile(repoTopics)) }}}
	if real, ok := testkit.RealKafka(b); ok {
		clusters = append(clusters, struct {
			name string
			kit  func(b *testing.B) *ksuitetest.Kafka
		}{"kafka", func(b *testing.B) *ksuitetest.Kafka {
			return ksuitetest.Attach(b, real.Brokers, ksuitetest.TopicsFile(repoTopics))
		}})
	}
	dbs := []struct {
		name string
		db   func(b *testing.B) testkit.DB
	}{{"sqlite", func(b *testing.B) testkit.DB { return testkit.NewSQLite(b) }}}
	if _, ok := testkit.NewPostgres(b); ok {
		dbs = append(dbs, struct {
			name string
			db   func(b *testing.B) testkit.DB
		}{"postgres", func(b *testing.B) testkit.DB { db, _ := testkit.NewPostgres(b); return db }})
	}
	for _, c := range clusters {
		for _, d := range dbs {
			b.Run(c.name+"/"+d.name, func(b *testing.B) { fn(b, c.kit, d.db) })
		}
	}
}

// plainHTTP asks for uncompressed answers: gzipping /metrics twenty times
// a second would be work the benchmark adds to the service.
var plainHTTP = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// handled reads records_handled_total of one group and topic from the
// server's /metrics.
func handled(b *testing.B, srv *suite.Server, group, topic string) float64 {
	resp, err := plainHTTP.Get(srv.URL() + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	prefix := `ksuite_event_records_handled_total{group="` + group + `",topic="` + topic + `"} `
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return n
		}
	}
	return 0
}

// seedRooms stores rooms 1..n, each hosted by member 0 with places for
// `places` joins, straight into the service's tables.
func seedRooms(b *testing.B, db testkit.DB, n, places int) {
	ctx := testkit.Context(b, 5*time.Minute)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().AddDate(0, 1, 0)
	for r := 1; r <= n; r++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO suiteroom_rooms (suite_room_id, title, content, subject, host_member_id,
			recruitment_limit, deposit_amount, study_deadline, min_attendance_rate, min_mission_complete_rate, status, created_at)
			VALUES ($1, $2, '', 's', 1, $3, 100, $4, 0, 0, 'OPEN', $5)`, r, "room "+strconv.Itoa(r), places+1, deadline, time.Now()); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO suiteroom_participants (suite_room_id, member_id, nick_name, is_host, status, joined_at)
			VALUES ($1, 1, 'host', true, 'READY', $2)`, r, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// joinsPerRoom is how many joins each seeded room takes.
const joinsPerRoom = 100

// BenchmarkJoins measures suiteroom-join events applied per second by the
// suite-room service (b.N events, published at full rate before it starts,
// the window from its first applied event to its last), beside a raw
// franz-go consumer reading the same topic in the same run. Every event
// must be applied exactly once.
func BenchmarkJoins(b *testing.B) {
	benchEnvs(b, func(b *testing.B, newKit func(*testing.B) *ksuitetest.Kafka, newDB func(*testing.B) testkit.DB) {
		for _, batch := range []int{500, 2000, 1} {
			b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
				if batch == 1 && b.N > 20000 {
					b.Skip("one transaction per event: run it with -benchtime 20000x or less")
				}
				kit, db := newKit(b), newDB(b)
				ctx := testkit.Context(b, 10*time.Minute)
				cfg := suite.Config{ClientOpts: kit.ClientOpts(), DB: db.DSN, Listen: "127.0.0.1:0",
					TopicPrefix: kit.Prefix(), Services: []string{suite.SuiteRoom}, MaxBatch: batch,
					Logger: slog.New(slog.DiscardHandler)}
				s, err := suite.Start(ctx, cfg) // migrates; the measured instance starts below
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
				rooms := b.N/joinsPerRoom + 1
				seedRooms(b, db, rooms, joinsPerRoom)
				publishJoins(b, kit, b.N)

				raw := rawConsume(b, kit, b.N)

				b.ResetTimer()
				cpu0, pg0 := processCPU(), postgresCPU()
				s, err = suite.Start(ctx, cfg)
				if err != nil {
					b.Fatal(err)
				}
				group, topic := kit.Prefix()+events.Group(events.SuiteRoomService, events.TopicJoin), kit.Topic(events.TopicJoin)
				var start time.Time
				var first float64
				for {
					n := handled(b, s, group, topic)
					if n > 0 && start.IsZero() {
						start, first = time.Now(), n
					}
					if int(n) >= b.N {
						break
					}
					if ctx.Err() != nil {
						b.Fatalf("%v joins applied of %d", n, b.N)
					}
					time.Sleep(50 * time.Millisecond)
				}
				d := time.Since(start)
				cpu, pg := processCPU()-cpu0, postgresCPU()-pg0
				b.StopTimer()
				s.Close()
				rate := (float64(b.N) - first) / d.Seconds()
				b.ReportMetric(rate, "joins/s")
				b.ReportMetric(raw, "raw-rec/s")
				b.ReportMetric(rate/raw, "ratio")
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/join")
				if db.Postgres() {
					b.ReportMetric(float64(pg.Microseconds())/float64(b.N), "pg-cpu-µs/join")
				}
				var participants, claimed int
				_ = db.QueryRowContext(ctx, "SELECT count(*) FROM suiteroom_participants").Scan(&participants)
				_ = db.QueryRowContext(ctx, "SELECT count(*) FROM suiteroom_inbox WHERE consumer_group = $1",
					events.Group(events.SuiteRoomService, events.TopicJoin)).Scan(&claimed)
				if participants != b.N+rooms || claimed != b.N {
					b.Fatalf("%d participants and %d inbox keys for %d joins in %d rooms: an effect was lost or doubled", participants, claimed, b.N, rooms)
				}
			})
		}
	})
}

// publishJoins is the driver at full rate: n joins, joinsPerRoom per room,
// keyed by room, batched and acknowledged before the service starts.
func publishJoins(b *testing.B, kit *ksuitetest.Kafka, n int) {
	p, err := event.NewProducer(event.ProducerConfig{ClientOpts: append(kit.ClientOpts(), kgo.ProducerLinger(5*time.Millisecond)),
		Source: events.PaymentService})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := testkit.Context(b, 5*time.Minute)
	var failed atomic.Int64
	for i := range n {
		room, member := int64(i/joinsPerRoom+1), int64(1_000_000+i)
		ev, err := event.New(events.TopicJoin, strconv.FormatInt(room, 10), events.Join{SuiteRoomID: events.ID(room),
			AuthorizerDto: events.Authorizer{MemberID: events.ID(member), Email: "m" + strconv.Itoa(i) + "@example.com",
				Name: "Member", NickName: "m" + strconv.Itoa(i), AccountStatus: "ACTIVE", Role: "USER"}})
		if err != nil {
			b.Fatal(err)
		}
		p.PublishAsync(ctx, kit.Topic(events.TopicJoin), ev, func(err error) {
			if err != nil {
				failed.Add(1)
			}
		})
	}
	if err := p.Flush(ctx); err != nil || failed.Load() > 0 {
		b.Fatalf("publishing joins: %v, %d failed", err, failed.Load())
	}
}

// rawConsume reads n records of the join topic with a plain franz-go
// consumer and returns records per second, first record to last.
func rawConsume(b *testing.B, kit *ksuitetest.Kafka, n int) float64 {
	cl := kit.Client(b, kgo.ConsumeTopics(kit.Topic(events.TopicJoin)), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := testkit.Context(b, 5*time.Minute)
	var start time.Time
	seen := 0
	for seen < n {
		fs := cl.PollRecords(ctx, 1000)
		if err := ctx.Err(); err != nil {
			b.Fatalf("raw consumer read %d of %d", seen, n)
		}
		if k := len(fs.Records()); k > 0 && start.IsZero() {
			start = time.Now()
			n -= k // the window starts after the first poll
			continue
		}
		seen += len(fs.Records())
	}
	cl.Close()
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkSignupLatency measures POST /api/members until Kafka acknowledged
// the member's signup-event (the member service's outbox relay), with
// sign-ups arriving at a fixed rate, beside raw franz-go producing one
// record per request at the same rate in the same run. api-p50/p99 are the
// requests alone (until the 201), cpu-µs/signup the CPU the whole test
// process (service, embedded broker, load generator) and pg-cpu-µs/signup
// PostgreSQL's backends spent per sign-up: latency over what those explain
// is queueing.
func BenchmarkSignupLatency(b *testing.B) {
	rate := signupRate() // sign-ups a second
	benchEnvs(b, func(b *testing.B, newKit func(*testing.B) *ksuitetest.Kafka, newDB func(*testing.B) testkit.DB) {
		kit, db := newKit(b), newDB(b)
		ctx := testkit.Context(b, 10*time.Minute)
		// Raw: one ProduceSync per "request", at the same rate.
		cl := kit.Client(b, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0))
		raw := atRate(b, rate, b.N, func(i int) time.Duration {
			start := time.Now()
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: kit.Topic(events.TopicSignup + ".DLT"), Key: []byte(strconv.Itoa(i)),
				Value: []byte(`{"memberId":1,"email":"raw@example.com","name":"Raw","nickName":"raw"}`)}).FirstErr(); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		})

		acked := newAckTimes()
		s, err := suite.Start(ctx, suite.Config{ClientOpts: append(kit.ClientOpts(), kgo.WithHooks(acked)), DB: db.DSN,
			Listen: "127.0.0.1:0", TopicPrefix: kit.Prefix(), Services: []string{suite.Member}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
		run := testkit.RandomSuffix()
		b.ResetTimer()
		cpu0, pg0 := processCPU(), postgresCPU()
		api := make([]time.Duration, b.N) // to the 201: the handler and its commit, without the relay
		lat := atRate(b, rate, b.N, func(i int) time.Duration {
			start := time.Now()
			body := fmt.Sprintf(`{"email":"m%d-%s@example.com","name":"Member %d","nickName":"m%d"}`, i, run, i, i)
			resp, err := client.Post(s.URL()+"/api/members", "application/json", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			var m member.Member
			err = decodeJSON(resp, &m)
			if err != nil || resp.StatusCode != http.StatusCreated {
				b.Fatalf("sign-up: %d %v", resp.StatusCode, err)
			}
			api[i] = time.Since(start)
			return acked.wait(b, strconv.FormatInt(m.MemberID, 10)).Sub(start)
		})
		cpu, pg := processCPU()-cpu0, postgresCPU()-pg0
		b.StopTimer()
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/signup")
		if db.Postgres() {
			b.ReportMetric(float64(pg.Microseconds())/float64(b.N), "pg-cpu-µs/signup")
		}
		report(b, "", lat)
		report(b, "api-", api)
		report(b, "raw-", raw)
	})
}

// atRate calls fn n times, starting call i at i/rate seconds (open loop:
// a slow call does not delay the next), and returns each call's duration.
func atRate(b *testing.B, rate, n int, fn func(i int) time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() { out[i] = fn(i) })
	}
	wg.Wait()
	return out
}

func report(b *testing.B, prefix string, lat []time.Duration) {
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), prefix+"p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), prefix+"p99-ms")
}

// ackTimes records when Kafka acknowledged each record, by key. A waiter has a channel of its own, closed
// by its record's ack: waking every waiter on every ack would cost the
// load generator time quadratic in the requests outstanding, the moment a
// hiccup lets them pile up.
type ackTimes struct {
	mu      sync.Mutex
	at      map[string]time.Time
	waiting map[string]chan struct{}
}

func newAckTimes() *ackTimes {
	return &ackTimes{at: make(map[string]time.Time), waiting: make(map[string]chan struct{})}
}

// OnProduceRecordUnbuffered implements kgo.HookProduceRecordUnbuffered: it
// runs once the broker acknowledged (or failed) the record.
func (a *ackTimes) OnProduceRecordUnbuffered(r *kgo.Record, err error) {
	if err != nil {
		return
	}
	now := time.Now()
	k := string(r.Key)
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, dup := a.at[k]; dup {
		return // at least once: the first ack counts
	}
	a.at[k] = now
	if w, ok := a.waiting[k]; ok {
		close(w)
		delete(a.waiting, k)
	}
}

// wait returns when key was acknowledged.
func (a *ackTimes) wait(b *testing.B, key string) time.Time {
	a.mu.Lock()
	t, ok := a.at[key]
	w := make(chan struct{})
	if !ok {
		a.waiting[key] = w
	}
	a.mu.Unlock()
	if ok {
		return t
	}
	select {
	case <-w:
	case <-time.After(time.Minute):
		b.Fatalf("signup-event of member %s not acknowledged within a minute", key)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.at[key]
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// signupRate is KSUITE_BENCH_SIGNUP_RATE, default 1000 a second.
func signupRate() int {
	if n, err := strconv.Atoi(os.Getenv("KSUITE_BENCH_SIGNUP_RATE")); err == nil && n > 0 {
		return n
	}
	return 1000
}
