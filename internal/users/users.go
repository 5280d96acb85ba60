// Package users manages a cluster's SASL/SCRAM users with Kafka's own admin
// requests (DescribeUserScramCredentials, AlterUserScramCredentials), so the
// same commands work on the embedded cluster and on Apache Kafka, where
// kafka-configs.sh --alter --add-config 'SCRAM-SHA-512=[...]' does the same.
//
// A user is only a credential: what it may do is granted by ACLs (the
// topics file's acls: section). Deleting a user leaves its ACLs in place,
// as Kafka does.
package users

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Iteration bounds Kafka enforces for SCRAM credentials.
const (
	MinIterations = 4096
	MaxIterations = 16384
)

// DefaultMechanism is the mechanism of a new user: SCRAM-SHA-512, the one
// `ksuite up --external-host` enables.
const DefaultMechanism = "SCRAM-SHA-512"

// User is one SCRAM user and the mechanisms it has a password for.
type User struct {
	Name       string       `json:"name"`
	Mechanisms []Credential `json:"mechanisms"`
}

// Credential is a password's mechanism and iteration count (the password
// itself is never readable back).
type Credential struct {
	Mechanism  string `json:"mechanism"`
	Iterations int32  `json:"iterations"`
}

// ErrNotFound is returned (wrapped) for a user with no SCRAM credential.
var ErrNotFound = errors.New("no such user")

// Mechanism parses a SCRAM mechanism name (case-insensitive).
func Mechanism(name string) (kadm.ScramMechanism, error) {
	switch strings.ToUpper(name) {
	case "SCRAM-SHA-256":
		return kadm.ScramSha256, nil
	case "SCRAM-SHA-512":
		return kadm.ScramSha512, nil
	}
	return 0, fmt.Errorf("mechanism %q: use SCRAM-SHA-512 or SCRAM-SHA-256", name)
}

// List returns the SCRAM users named, or every one if none is, sorted by
// name. A named user that does not exist is an error wrapping
// [ErrNotFound].
func List(ctx context.Context, adm *kadm.Client, names ...string) ([]User, error) {
	described, err := adm.DescribeUserSCRAMs(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	out := make([]User, 0, len(described))
	for _, d := range described.Sorted() {
		if errors.Is(d.Err, kerr.ResourceNotFound) {
			return nil, fmt.Errorf("user %s: %w", d.User, ErrNotFound)
		}
		if d.Err != nil {
			return nil, fmt.Errorf("listing users: %s: %w", d.User, d.Err)
		}
		out = append(out, toUser(d))
	}
	return out, nil
}

// Get returns one user, or an error wrapping [ErrNotFound].
func Get(ctx context.Context, adm *kadm.Client, name string) (User, error) {
	us, err := List(ctx, adm, name)
	if err != nil {
		return User{}, err
	}
	if len(us) == 0 {
		return User{}, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	return us[0], nil
}

// Set creates the user, or replaces its password for mech, and reports
// whether the user is new. iterations 0 means [MinIterations].
func Set(ctx context.Context, adm *kadm.Client, name, password, mech string, iterations int32) (created bool, err error) {
	if err := validName(name); err != nil {
		return false, err
	}
	if password == "" {
		return false, fmt.Errorf("user %s: empty password", name)
	}
	m, err := Mechanism(mech)
	if err != nil {
		return false, err
	}
	if iterations == 0 {
		iterations = MinIterations
	}
	if iterations < MinIterations || iterations > MaxIterations {
		return false, fmt.Errorf("--iterations %d: Kafka allows %d to %d", iterations, MinIterations, MaxIterations)
	}
	_, err = Get(ctx, adm, name)
	switch {
	case errors.Is(err, ErrNotFound):
		created = true
	case err != nil:
		return false, err
	}
	res, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: name, Mechanism: m, Iterations: iterations, Password: password}})
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		return false, fmt.Errorf("setting the password of user %s: %w", name, err)
	}
	return created, nil
}

// Delete removes every SCRAM credential of the user. A user with none is
// an error wrapping [ErrNotFound].
func Delete(ctx context.Context, adm *kadm.Client, name string) error {
	u, err := Get(ctx, adm, name)
	if err != nil {
		return err
	}
	var del []kadm.DeleteSCRAM
	for _, c := range u.Mechanisms {
		m, err := Mechanism(c.Mechanism)
		if err != nil {
			continue // a mechanism this version of Kafka added: not ours to touch
		}
		del = append(del, kadm.DeleteSCRAM{User: name, Mechanism: m})
	}
	res, err := adm.AlterUserSCRAMs(ctx, del, nil)
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		return fmt.Errorf("deleting user %s: %w", name, err)
	}
	return nil
}

func toUser(d kadm.DescribedUserSCRAM) User {
	u := User{Name: d.User}
	for _, c := range d.CredInfos {
		u.Mechanisms = append(u.Mechanisms, Credential{Mechanism: c.Mechanism.String(), Iterations: c.Iterations})
	}
	return u
}

// validName rejects what Kafka would reject later, with a clearer message.
func validName(name string) error {
	if name == "" {
		return errors.New("empty user name")
	}
	if strings.TrimSpace(name) != name {
		return fmt.Errorf("user name %q has leading or trailing spaces", name)
	}
	if rest, ok := strings.CutPrefix(name, "User:"); ok {
		// Kafka would take it, as a user whose ACLs need the principal
		// User:User:...; the acls: section's form was meant.
		return fmt.Errorf("user name %q: give the name alone (%s); User:%s is how ACLs name its principal", name, rest, rest)
	}
	return nil
}
