package testkit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ksuite/ksuite/internal/kafka"
	"github.com/ksuite/ksuite/internal/pki"
	"github.com/ksuite/ksuite/third_party/kfake"
)

// Environment variables for the real cluster's external listener.
const (
	// EnvKafkaSSL holds the real cluster's SASL_SSL (SCRAM-SHA-512, ACLs
	// enforced) bootstrap list.
	EnvKafkaSSL = "KSUITE_TEST_KAFKA_SSL"
	// EnvKafkaCA holds the path of the CA certificate that signed it.
	EnvKafkaCA = "KSUITE_TEST_KAFKA_CA"
	// EnvRequireKafkaSSL makes a real cluster without that listener a test
	// failure (make test sets it; a harness started before the listener
	// existed only skips).
	EnvRequireKafkaSSL = "KSUITE_REQUIRE_KAFKA_SSL"
)

// The super user of the real cluster's SASL_SSL listener, seeded by
// cluster.sh; the kfake side uses the same name with a random password.
const (
	AdminUser         = "admin"
	RealAdminPassword = "ksuite-admin-secret"
	secureMechanism   = kafka.MechanismScramSHA512
	secureTimeout     = 15 * time.Second
)

// SecureCluster is a cluster as `ksuite up --external-host` exposes it:
// SASL_SSL with SCRAM-SHA-512, a certificate from the cluster's own CA, ACLs
// enforced, and an admin super user.
type SecureCluster struct {
	// Name is "kfake" or "kafka"; it names the subtest.
	Name string
	// Brokers is the SASL_SSL bootstrap list.
	Brokers []string
	// CAFile is the CA certificate clients trust.
	CAFile string
	// AdminPassword is the password of [AdminUser].
	AdminPassword string
	// Real is true for Apache Kafka.
	Real bool
	// Fake is the kfake cluster, nil for real Kafka.
	Fake *kfake.Cluster
}

// Config is the connection config of user with password.
func (c SecureCluster) Config(user, password string) kafka.Config {
	return kafka.Config{
		Brokers: c.Brokers,
		SASL:    kafka.SASL{Mechanism: secureMechanism, Username: user, Password: password},
		TLS:     kafka.TLS{CAFile: c.CAFile},
		Timeout: secureTimeout,
	}
}

// AdminConfig is the connection config of the super user.
func (c SecureCluster) AdminConfig() kafka.Config { return c.Config(AdminUser, c.AdminPassword) }

// Admin returns the super user's admin client, closed when the test ends.
func (c SecureCluster) Admin(t testing.TB) *kadm.Client {
	t.Helper()
	cl, err := c.AdminConfig().NewClient()
	if err != nil {
		t.Fatalf("admin client for %s: %v", c.Name, err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// CreateTopic creates a topic with a name unique to the test as the admin,
// waits until every broker knows it, and deletes it when the test ends.
func (c SecureCluster) CreateTopic(t testing.TB, partitions int32, rf int16) string {
	t.Helper()
	name := TopicName(t)
	adm := c.Admin(t)
	ctx := Context(t, 30*time.Second)
	resp, err := adm.CreateTopic(ctx, partitions, rf, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s on %s: %v", name, c.Name, err)
	}
	waitTopic(t, c.AdminConfig(), c.Name, name, partitions)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(ctx, name)
	})
	return name
}

// NewUser creates a SCRAM-SHA-512 user with a name unique to the test and
// a random password, waits until every broker accepts it, and deletes the
// user and every ACL naming it when the test ends.
func (c SecureCluster) NewUser(t testing.TB) (name, password string) {
	t.Helper()
	name = "ksuite-test-" + strings.ToLower(unsafeTopicChars.ReplaceAllString(t.Name(), "-"))
	if len(name) > 100 {
		name = name[:100]
	}
	name += "-" + RandomSuffix()
	password = RandomSuffix() + RandomSuffix()
	cl, err := c.AdminConfig().NewClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	ctx := Context(t, 30*time.Second)
	res, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: name, Mechanism: kadm.ScramSha512, Password: password}})
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		t.Fatalf("creating user %s on %s: %v", name, c.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: name, Mechanism: kadm.ScramSha512}}, nil)
		DeleteACLsOf(ctx, cl, "User:"+name)
	})
	c.WaitAuthenticates(t, name, password)
	return name, password
}

// WaitAuthenticates waits until every broker accepts user's password:
// Kafka propagates a new credential to the brokers asynchronously.
func (c SecureCluster) WaitAuthenticates(t testing.TB, user, password string) {
	t.Helper()
	cfg := c.Config(user, password)
	cfg.Timeout = 3 * time.Second
	for _, b := range c.Brokers {
		one := cfg
		one.Brokers = []string{b}
		Eventually(t, 30*time.Second, "broker "+b+" accepts user "+user, func() bool {
			cl, err := one.Connect(context.Background())
			if err != nil {
				return false
			}
			cl.Close()
			return true
		})
	}
}

// DeleteACLsOf removes every ACL of principal, best effort (cleanup).
func DeleteACLsOf(ctx context.Context, r kmsg.Requestor, principal string) {
	req := kmsg.NewPtrDeleteACLsRequest()
	f := kmsg.NewDeleteACLsRequestFilter()
	f.ResourceType = kmsg.ACLResourceTypeAny
	f.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
	f.Principal = kmsg.StringPtr(principal)
	f.Operation = kmsg.ACLOperationAny
	f.PermissionType = kmsg.ACLPermissionTypeAny
	req.Filters = append(req.Filters, f)
	_, _ = req.RequestWith(ctx, r)
}

// SecureClusters returns a kfake cluster configured like `ksuite up
// --external-host` and, when KSUITE_TEST_KAFKA is set, the real cluster's
// SASL_SSL listener.
func SecureClusters(t testing.TB) []SecureCluster {
	t.Helper()
	out := []SecureCluster{NewSecureFake(t)}
	if real, ok := RealKafkaSecure(t); ok {
		out = append(out, real)
	}
	return out
}

// ForEachSecureCluster runs fn as a subtest per cluster of [SecureClusters].
func ForEachSecureCluster(t *testing.T, fn func(t *testing.T, c SecureCluster)) {
	t.Helper()
	for _, c := range SecureClusters(t) {
		t.Run(c.Name, func(t *testing.T) { fn(t, c) })
	}
}

// NewSecureFake starts a 3-broker kfake cluster with TLS from a fresh CA,
// SASL (SCRAM-SHA-512 admin super user) and ACLs, closed when the test ends.
func NewSecureFake(t testing.TB, opts ...kfake.Opt) SecureCluster {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tls")
	srv, res, err := pki.NewServer(pki.Options{Dir: dir, Hosts: []string{"127.0.0.1", "localhost"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	password := RandomSuffix() + RandomSuffix()
	base := []kfake.Opt{
		kfake.NumBrokers(3),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(1),
		kfake.TLS(srv.TLSConfig()),
		kfake.EnableSASL(),
		kfake.Superuser(secureMechanism, AdminUser, password),
		kfake.EnableACLs(),
	}
	fake, err := kfake.NewCluster(append(base, opts...)...)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(fake.Close)
	return SecureCluster{Name: "kfake-secure", Brokers: fake.ListenAddrs(), CAFile: res.CAPath, AdminPassword: password, Fake: fake}
}

// RealKafkaSecure returns the real cluster's SASL_SSL listener when
// KSUITE_TEST_KAFKA_SSL and KSUITE_TEST_KAFKA_CA name it. Without them it
// reports false, or fails the test under KSUITE_REQUIRE_KAFKA_SSL=1.
func RealKafkaSecure(t testing.TB) (SecureCluster, bool) {
	t.Helper()
	bootstrap := requiredEnv(t, EnvKafkaSSL, EnvRequireKafkaSSL, "export test/kafka/cluster.sh ssl-bootstrap (and ca as "+EnvKafkaCA+"); make test does")
	if bootstrap == "" {
		return SecureCluster{}, false
	}
	ca := os.Getenv(EnvKafkaCA)
	if ca == "" {
		t.Fatalf("%s is set but %s is empty: export test/kafka/cluster.sh ca", EnvKafkaSSL, EnvKafkaCA)
	}
	return SecureCluster{Name: "kafka-secure", Brokers: strings.Split(bootstrap, ","), CAFile: ca, AdminPassword: RealAdminPassword, Real: true}, true
}
