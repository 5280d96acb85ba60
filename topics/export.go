package topics

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"gopkg.in/yaml.v3"
)

// ExportOptions selects what [Export] writes.
type ExportOptions struct {
	// Include keeps only topics whose name matches; nil keeps all.
	Include *regexp.Regexp
}

// Export reads the cluster's topics and returns a topics file declaring
// them: partitions, replication factor and the topic-level config
// overrides (configs at their defaults are left out, so the file stays
// readable and a later change of a cluster default still applies), and —
// on a cluster with an authorizer — its ACLs in an acls: section (not
// filtered by Include: they name principals, not topics). Internal topics
// (__*) are never exported. Planning the exported file against the same
// cluster shows no changes.
//
// The file declares no manage prefixes: adopting a cluster must not make
// anything deletable until someone chooses what the file owns.
func Export(ctx context.Context, cl *kgo.Client, opts ExportOptions) ([]byte, error) {
	s, err := readState(ctx, cl, nil)
	if err != nil {
		return nil, err
	}
	var names []string
	for name, t := range s.topics {
		if t.internal || strings.HasPrefix(name, "__") {
			continue
		}
		if opts.Include != nil && !opts.Include.MatchString(name) {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	configs := map[string]map[string]observedConfig{}
	if len(names) > 0 {
		if configs, err = describeConfigs(ctx, cl, names); err != nil {
			return nil, err
		}
	}
	acls, err := readACLs(ctx, cl)
	if err != nil {
		return nil, err
	}
	out := exportFile{Topics: make([]exportTopic, 0, len(names)), ACLs: exportACLs(acls.acls)}
	for _, name := range names {
		t := s.topics[name]
		et := exportTopic{Name: name, Partitions: t.partitionCount(), ReplicationFactor: t.replicationFactor()}
		for k, c := range configs[name] {
			if c.source == kmsg.ConfigSourceDynamicTopicConfig && c.value != nil {
				if et.Config == nil {
					et.Config = map[string]string{}
				}
				et.Config[k] = *c.value
			}
		}
		out.Topics = append(out.Topics, et)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Exported by ksuite topics export: %d topic(s), topic-level overrides only", len(names))
	if len(acls.acls) > 0 {
		fmt.Fprintf(&buf, "; %d ACL binding(s)", len(acls.acls))
	}
	buf.WriteString(".\n")
	buf.WriteString("# Add manage.prefixes before relying on deletes; see docs/topics.md.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// exportFile mirrors the file format for writing. Config values are
// strings, quoted where YAML would read them as something else, exactly as
// the broker reports them.
type exportFile struct {
	Topics []exportTopic `yaml:"topics"`
	ACLs   []exportACL   `yaml:"acls,omitempty"`
}

type exportTopic struct {
	Name              string            `yaml:"name"`
	Partitions        int               `yaml:"partitions"`
	ReplicationFactor int               `yaml:"replication-factor"`
	Config            map[string]string `yaml:"config,omitempty"`
}
