package cli_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
)

// secureEnv is the environment of a client logging in to c as user.
func secureEnv(c testkit.SecureCluster, user, password string) map[string]string {
	env := map[string]string{
		"KSUITE_BROKERS":        strings.Join(c.Brokers, ","),
		"KSUITE_SASL_MECHANISM": "SCRAM-SHA-512",
		"KSUITE_SASL_USERNAME":  user,
		"KSUITE_TLS_CA":         c.CAFile,
	}
	if password != "" {
		env["KSUITE_SASL_PASSWORD"] = password
	}
	return env
}

func TestUsersCommands(t *testing.T) {
	testkit.ForEachSecureCluster(t, func(t *testing.T, c testkit.SecureCluster) {
		admin := secureEnv(c, testkit.AdminUser, c.AdminPassword)
		name := "ksuite-test-cli-" + testkit.RandomSuffix()
		t.Cleanup(func() { runStdin(t, "", admin, "users", "delete", name) })

		r := runStdin(t, "first-pw\n", admin, "users", "add", name, "--password-stdin")
		if r.code != 0 || r.out != "created user "+name+" (SCRAM-SHA-512)\n" || !strings.Contains(r.errOut, "can do nothing until ACLs grant it") {
			t.Fatalf("users add: exit %d, stdout %q, stderr %q", r.code, r.out, r.errOut)
		}
		c.WaitAuthenticates(t, name, "first-pw")

		r = runStdin(t, "", admin, "users", "list", "--output", "json")
		var listed struct {
			Users []struct {
				Name       string `json:"name"`
				Mechanisms []struct {
					Mechanism  string `json:"mechanism"`
					Iterations int    `json:"iterations"`
				} `json:"mechanisms"`
			} `json:"users"`
		}
		if err := json.Unmarshal([]byte(r.out), &listed); r.code != 0 || err != nil {
			t.Fatalf("users list --output json: exit %d, %v: %s %s", r.code, err, r.out, r.errOut)
		}
		found := false
		for _, u := range listed.Users {
			if u.Name == name && len(u.Mechanisms) == 1 && u.Mechanisms[0].Mechanism == "SCRAM-SHA-512" && u.Mechanisms[0].Iterations == 4096 {
				found = true
			}
		}
		if !found {
			t.Fatalf("users list does not show %s with SCRAM-SHA-512: %s", name, r.out)
		}
		// The table's column widths follow the longest name on the cluster,
		// which other tests' users may widen: compare fields, not spacing.
		if r = runStdin(t, "", admin, "users", "list"); !strings.HasPrefix(r.out, "USER") || !slices.ContainsFunc(strings.Split(r.out, "\n"), func(line string) bool {
			return strings.Join(strings.Fields(line), " ") == name+" SCRAM-SHA-512 (4096 iterations)"
		}) {
			t.Fatalf("users list: %q", r.out)
		}

		// Named, only that user is listed.
		if r = runStdin(t, "", admin, "users", "list", name, "--output", "json"); r.code != 0 || strings.TrimSpace(r.out) != `{"users":[{"name":"`+name+`","mechanisms":[{"mechanism":"SCRAM-SHA-512","iterations":4096}]}]}` {
			t.Fatalf("users list %s --output json: exit %d, %q %q", name, r.code, r.out, r.errOut)
		}

		r = runStdin(t, "", admin, "users", "add", name, "--password", "second-pw")
		if r.code != 0 || r.out != "updated the SCRAM-SHA-512 password of user "+name+"\n" {
			t.Fatalf("users add (existing): exit %d, %q %q", r.code, r.out, r.errOut)
		}
		c.WaitAuthenticates(t, name, "second-pw")

		if r = runStdin(t, "", admin, "users", "delete", name); r.code != 0 || r.out != "deleted user "+name+"\n" {
			t.Fatalf("users delete: exit %d, %q %q", r.code, r.out, r.errOut)
		}
		if r = runStdin(t, "", admin, "users", "delete", name); r.code != 1 || !strings.Contains(r.errOut, "user "+name+" does not exist") {
			t.Fatalf("users delete (gone): exit %d, %q", r.code, r.errOut)
		}
		// Kafka answers DescribeUserScramCredentials from the broker's copy
		// of the metadata log, which may lag the delete a moment.
		testkit.Eventually(t, 30*time.Second, "users list of a deleted user fails naming it", func() bool {
			r = runStdin(t, "", admin, "users", "list", name)
			return r.code == 1 && r.out == "" && strings.Contains(r.errOut, "user "+name+": no such user on this cluster")
		})
	})
}

func TestUsersPasswordInput(t *testing.T) {
	c := testkit.NewSecureFake(t)
	admin := secureEnv(c, testkit.AdminUser, c.AdminPassword)
	tests := []struct {
		name  string
		stdin string
		tty   bool
		env   map[string]string
		args  []string
		code  int
		want  string
	}{
		{"no password source", "", false, admin, []string{"users", "add", "bob"}, 1, "no password: pipe it with --password-stdin"},
		{"empty stdin", "", false, admin, []string{"users", "add", "bob", "--password-stdin"}, 1, "stdin is empty"},
		{"both sources", "pw\n", false, admin, []string{"users", "add", "bob", "--password-stdin", "--password", "x"}, 1, "none of the others can be"},
		{"prompt, mismatch", "pw1\npw2\n", true, admin, []string{"users", "add", "bob"}, 1, "the passwords differ"},
		{"prompt", "pw1\npw1\n", true, admin, []string{"users", "add", "bob"}, 0, "created user bob"},
		{"connection password missing, no terminal", "", false, secureEnv(c, testkit.AdminUser, ""), []string{"users", "list"}, 1, "no password for SASL user admin: set KSUITE_SASL_PASSWORD"},
		{"connection password asked on a terminal", c.AdminPassword + "\n", true, secureEnv(c, testkit.AdminUser, ""), []string{"users", "list"}, 0, "bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.NewReader(tt.stdin)
			var r runResult
			if tt.tty {
				r = runIn(t, fakeTerminal{in}, tt.env, tt.args...)
			} else {
				r = runIn(t, in, tt.env, tt.args...)
			}
			if r.code != tt.code || !strings.Contains(r.out+r.errOut, tt.want) {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q; want %q", r.code, tt.code, r.out, r.errOut, tt.want)
			}
			if strings.Contains(r.out+r.errOut, "pw1") || strings.Contains(r.out+r.errOut, c.AdminPassword) {
				t.Fatal("a password was printed")
			}
		})
	}
}
