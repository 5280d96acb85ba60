package users_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/internal/users"
)

// TestUserLifecycle: a user added can authenticate, a new password
// replaces the old one, and a deleted user is gone and locked out.
func TestUserLifecycle(t *testing.T) {
	testkit.ForEachSecureCluster(t, func(t *testing.T, c testkit.SecureCluster) {
		adm := c.Admin(t)
		ctx := testkit.Context(t, time.Minute)
		name := "ksuite-test-user-" + testkit.RandomSuffix()
		t.Cleanup(func() { _ = users.Delete(context.Background(), adm, name) })

		created, err := users.Set(ctx, adm, name, "first-password", users.DefaultMechanism, 0)
		if err != nil || !created {
			t.Fatalf("Set new user: created=%v err=%v", created, err)
		}
		c.WaitAuthenticates(t, name, "first-password")
		u, err := users.Get(ctx, adm, name)
		if err != nil {
			t.Fatal(err)
		}
		if len(u.Mechanisms) != 1 || u.Mechanisms[0] != (users.Credential{Mechanism: "SCRAM-SHA-512", Iterations: 4096}) {
			t.Fatalf("user %s has %+v, want one SCRAM-SHA-512 credential with 4096 iterations", name, u.Mechanisms)
		}
		all, err := users.List(ctx, adm)
		if err != nil {
			t.Fatal(err)
		}
		if !containsUser(all, name) || !containsUser(all, testkit.AdminUser) {
			t.Fatalf("List has %v, want %s and %s", all, name, testkit.AdminUser)
		}
		if named, err := users.List(ctx, adm, name); err != nil || len(named) != 1 || named[0].Name != name {
			t.Fatalf("List(%s) = %v, %v; want that user alone", name, named, err)
		}
		if _, err := users.List(ctx, adm, name, "ksuite-test-nobody"); !errors.Is(err, users.ErrNotFound) || !strings.Contains(err.Error(), "ksuite-test-nobody") {
			t.Fatalf("List of a user that does not exist: %v, want ErrNotFound naming it", err)
		}

		created, err = users.Set(ctx, adm, name, "second-password", "scram-sha-512", 8192)
		if err != nil || created {
			t.Fatalf("Set existing user: created=%v err=%v", created, err)
		}
		c.WaitAuthenticates(t, name, "second-password")
		if authenticates(c, name, "first-password") {
			t.Fatal("the replaced password still authenticates")
		}

		if err := users.Delete(ctx, adm, name); err != nil {
			t.Fatal(err)
		}
		// Kafka answers DescribeUserScramCredentials from the broker's
		// copy of the metadata log, which may lag the controller a moment.
		testkit.Eventually(t, 30*time.Second, "Get after Delete reports ErrNotFound", func() bool {
			_, err := users.Get(ctx, adm, name)
			return errors.Is(err, users.ErrNotFound)
		})
		testkit.Eventually(t, 30*time.Second, "a deleted user is locked out", func() bool {
			return !authenticates(c, name, "second-password")
		})
		if err := users.Delete(ctx, adm, name); !errors.Is(err, users.ErrNotFound) {
			t.Fatalf("Delete twice: %v, want ErrNotFound", err)
		}
	})
}

func TestSetRefusesBadInput(t *testing.T) {
	c := testkit.NewSecureFake(t)
	adm := c.Admin(t)
	ctx := testkit.Context(t, 10*time.Second)
	tests := []struct {
		name, user, password, mech string
		iterations                 int32
		want                       string
	}{
		{"empty name", "", "pw", "SCRAM-SHA-512", 0, "empty user name"},
		{"spaces", " bob", "pw", "SCRAM-SHA-512", 0, "leading or trailing spaces"},
		{"principal", "User:bob", "pw", "SCRAM-SHA-512", 0, "give the name alone (bob)"},
		{"empty password", "bob", "", "SCRAM-SHA-512", 0, "empty password"},
		{"plain", "bob", "pw", "PLAIN", 0, "use SCRAM-SHA-512 or SCRAM-SHA-256"},
		{"too few iterations", "bob", "pw", "SCRAM-SHA-512", 1000, "4096 to 16384"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := users.Set(ctx, adm, tt.user, tt.password, tt.mech, tt.iterations); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := users.Get(ctx, adm, "bob"); !errors.Is(err, users.ErrNotFound) {
		t.Fatalf("a refused Set created the user: %v", err)
	}
}

func containsUser(us []users.User, name string) bool {
	for _, u := range us {
		if u.Name == name {
			return true
		}
	}
	return false
}

func authenticates(c testkit.SecureCluster, user, password string) bool {
	cfg := c.Config(user, password)
	cfg.Timeout = 3 * time.Second
	cl, err := cfg.Connect(context.Background())
	if err != nil {
		return false
	}
	cl.Close()
	return true
}
