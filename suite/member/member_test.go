package member

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/twmb/franz-go/pkg/kgo"
	_ "modernc.org/sqlite"

	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/suite/internal/httpapi"
	"github.com/ksuite/ksuite/suite/internal/sqldb"
)

func TestSignUpValidate(t *testing.T) {
	ok := SignUp{Email: "ada@example.com", Name: "Ada Lovelace", NickName: "ada"}
	tests := []struct {
		name string
		edit func(*SignUp)
		want string
	}{
		{"valid", func(*SignUp) {}, ""},
		{"unicode name", func(s *SignUp) { s.Name = "에이다 러브레이스" }, ""},
		{"no email", func(s *SignUp) { s.Email = "" }, "email is required"},
		{"no at", func(s *SignUp) { s.Email = "ada.example.com" }, "is not an address"},
		{"no domain dot", func(s *SignUp) { s.Email = "ada@localhost" }, "is not an address"},
		{"display name", func(s *SignUp) { s.Email = "Ada <ada@example.com>" }, "is not an address"},
		{"long email", func(s *SignUp) { s.Email = strings.Repeat("a", 250) + "@x.org" }, "longer than 254"},
		{"blank name", func(s *SignUp) { s.Name = "  " }, "name is required"},
		{"no nickName", func(s *SignUp) { s.NickName = "" }, "nickName is required"},
		{"long name", func(s *SignUp) { s.Name = strings.Repeat("n", 101) }, "name is longer than 100"},
		{"50 runes is fine", func(s *SignUp) { s.NickName = strings.Repeat("닉", 50) }, ""},
		{"51 runes is not", func(s *SignUp) { s.NickName = strings.Repeat("닉", 51) }, "nickName is longer than 50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.edit(&in)
			err := in.validate()
			var he *httpapi.Error
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &he) || he.Status != http.StatusBadRequest):
				t.Fatalf("err = %v, want a 400 containing %q", err, tt.want)
			}
		})
	}
}

// A sign-up stores the member and its signup-event in the outbox, or
// neither.
func TestSignUpStoresMemberAndEvent(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, tdb testkit.DB) {
		ctx := testkit.Context(t, 30*time.Second)
		db, err := sqldb.Open(ctx, tdb.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s, err := New(ctx, Config{DB: db.DB, Dialect: db.Dialect, ClientOpts: []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}, TopicPrefix: "p."})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		m, err := s.signUp(ctx, SignUp{Email: "Ada@Example.com", Name: "Ada", NickName: "ada"})
		if err != nil || m.MemberID <= 0 {
			t.Fatalf("%+v %v", m, err)
		}
		got, err := s.member(ctx, m.MemberID)
		if err != nil || got != m {
			t.Fatalf("read back %+v %v, want %+v", got, err, m)
		}
		_, err = s.signUp(ctx, SignUp{Email: "ada@example.COM", Name: "Other", NickName: "o"})
		var he *httpapi.Error
		if !errors.As(err, &he) || he.Status != http.StatusConflict {
			t.Fatalf("duplicate email: %v, want a 409", err)
		}
		var rows int
		var topic string
		if err := db.QueryRowContext(ctx, "SELECT count(*), max(topic) FROM "+OutboxTable).Scan(&rows, &topic); err != nil || rows != 1 || topic != "p.signup-event" {
			t.Fatalf("outbox holds %d rows for %q (%v), want one signup-event: the refused sign-up must add none", rows, topic, err)
		}
		if _, err := s.member(ctx, m.MemberID+1); !errors.As(err, &he) || he.Status != http.StatusNotFound {
			t.Fatalf("unknown member: %v", err)
		}
	})
}
