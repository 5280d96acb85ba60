package topics

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
	"gopkg.in/yaml.v3"
)

// ResourceType is what an [ACL] protects.
type ResourceType string

// The resource types of the acls: section, as Kafka names them.
const (
	ResourceTopic           ResourceType = "topic"
	ResourceGroup           ResourceType = "group"
	ResourceCluster         ResourceType = "cluster"
	ResourceTransactionalID ResourceType = "transactional-id"
)

// Pattern says how an [ACL]'s name matches resources.
type Pattern string

// The patterns: a literal name ("*" is every resource of the type) or a
// prefix.
const (
	PatternLiteral  Pattern = "literal"
	PatternPrefixed Pattern = "prefixed"
)

// Operation is what an [ACL] allows or denies, e.g. "read".
type Operation string

// Permission is "allow" or "deny". A deny wins over any allow.
type Permission string

// The permissions.
const (
	PermissionAllow Permission = "allow"
	PermissionDeny  Permission = "deny"
)

// ClusterResourceName is the name Kafka gives the one cluster resource.
const ClusterResourceName = "kafka-cluster"

// ACL is one access control binding as Kafka stores it: a principal
// allowed (or denied) one operation on one resource, from a host. The
// acls: section declares several operations per entry; [Load] expands
// them to one ACL each.
type ACL struct {
	Principal    string       `json:"principal"`
	Host         string       `json:"host"`
	ResourceType ResourceType `json:"resourceType"`
	Name         string       `json:"name"`
	Pattern      Pattern      `json:"pattern"`
	Operation    Operation    `json:"operation"`
	Permission   Permission   `json:"permission"`
	// Pos is where the entry is declared (zero for one read from a cluster).
	Pos Pos `json:"-"`
}

// String is the binding in one line, for plans and errors:
// "User:alice allow read on topic orders from *".
func (a ACL) String() string {
	name := a.Name
	if a.Pattern == PatternPrefixed {
		name += "* (prefix)"
	}
	s := fmt.Sprintf("%s %s %s on %s %s", a.Principal, a.Permission, a.Operation, a.ResourceType, name)
	if a.Host != "*" {
		s += " from " + a.Host
	}
	return s
}

// key is the binding without its position: what Kafka compares.
func (a ACL) key() ACL {
	a.Pos = Pos{}
	return a
}

// resourceOps are the operations kafka-acls.sh accepts per resource type.
var resourceOps = map[ResourceType][]Operation{
	ResourceTopic:           {"read", "write", "create", "delete", "alter", "describe", "describe-configs", "alter-configs", "all"},
	ResourceGroup:           {"read", "describe", "delete", "all"},
	ResourceCluster:         {"create", "cluster-action", "describe-configs", "alter-configs", "idempotent-write", "alter", "describe", "all"},
	ResourceTransactionalID: {"describe", "write", "all"},
}

// Kafka's codes for the names above.
var (
	resourceCodes = map[ResourceType]kmsg.ACLResourceType{
		ResourceTopic:           kmsg.ACLResourceTypeTopic,
		ResourceGroup:           kmsg.ACLResourceTypeGroup,
		ResourceCluster:         kmsg.ACLResourceTypeCluster,
		ResourceTransactionalID: kmsg.ACLResourceTypeTransactionalId,
	}
	operationCodes = map[Operation]kmsg.ACLOperation{
		"all":              kmsg.ACLOperationAll,
		"read":             kmsg.ACLOperationRead,
		"write":            kmsg.ACLOperationWrite,
		"create":           kmsg.ACLOperationCreate,
		"delete":           kmsg.ACLOperationDelete,
		"alter":            kmsg.ACLOperationAlter,
		"describe":         kmsg.ACLOperationDescribe,
		"cluster-action":   kmsg.ACLOperationClusterAction,
		"describe-configs": kmsg.ACLOperationDescribeConfigs,
		"alter-configs":    kmsg.ACLOperationAlterConfigs,
		"idempotent-write": kmsg.ACLOperationIdempotentWrite,
	}
	patternCodes = map[Pattern]kmsg.ACLResourcePatternType{
		PatternLiteral:  kmsg.ACLResourcePatternTypeLiteral,
		PatternPrefixed: kmsg.ACLResourcePatternTypePrefixed,
	}
	permissionCodes = map[Permission]kmsg.ACLPermissionType{
		PermissionAllow: kmsg.ACLPermissionTypeAllow,
		PermissionDeny:  kmsg.ACLPermissionTypeDeny,
	}
)

// reverse inverts one of the code maps.
func reverse[K comparable, V comparable](m map[K]V) map[V]K {
	out := make(map[V]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

var (
	resourceNames   = reverse(resourceCodes)
	operationNames  = reverse(operationCodes)
	patternNames    = reverse(patternCodes)
	permissionNames = reverse(permissionCodes)
)

// fromKafka turns a described binding into an ACL; ok is false for a
// resource, pattern or operation the acls: section does not model
// (delegation tokens, users), which ksuite leaves alone.
func fromKafka(principal, host string, rt kmsg.ACLResourceType, name string, pt kmsg.ACLResourcePatternType, op kmsg.ACLOperation, perm kmsg.ACLPermissionType) (ACL, bool) {
	a := ACL{Principal: principal, Host: host, Name: name}
	var ok1, ok2, ok3, ok4 bool
	a.ResourceType, ok1 = resourceNames[rt]
	a.Pattern, ok2 = patternNames[pt]
	a.Operation, ok3 = operationNames[op]
	a.Permission, ok4 = permissionNames[perm]
	return a, ok1 && ok2 && ok3 && ok4
}

// aclSpec is one entry of the acls: section before expansion. name and
// prefix may each list several resources; nil means the key is absent.
type aclSpec struct {
	pos        Pos
	principal  string
	resource   posString
	names      []posString
	prefixes   []posString
	operations []posString
	permission posString
	host       string
}

// acls parses the acls: section: a list of entries.
func (p *parser) acls(n *yaml.Node) []aclSpec {
	n = resolveAlias(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "acls must be a list of entries (- principal: User:NAME ...), not %s", kindName(n))
		return nil
	}
	var out []aclSpec
	for _, item := range n.Content {
		item = resolveAlias(item)
		if item.Kind != yaml.MappingNode {
			p.errorf(item, "acls: each entry must be a mapping with principal, resource, name or prefix, operations; not %s", kindName(item))
			continue
		}
		s := aclSpec{pos: p.pos(item), permission: posString{v: string(PermissionAllow), pos: p.pos(item)}, host: "*"}
		p.mapping(item, "acl", func(key string, k, v *yaml.Node) bool {
			switch key {
			case "principal":
				s.principal = p.scalar(v, "principal")
			case "resource":
				s.resource = posString{v: p.scalar(v, "resource"), pos: p.pos(v)}
			case "name":
				s.names = p.nonNil(p.stringList(v, "name"))
			case "prefix":
				s.prefixes = p.nonNil(p.stringList(v, "prefix"))
			case "operations":
				s.operations = p.stringList(v, "operations")
			case "permission":
				s.permission = posString{v: p.scalar(v, "permission"), pos: p.pos(v)}
			case "host":
				s.host = p.scalar(v, "host")
			default:
				return false
			}
			return true
		}, "principal", "resource", "name", "prefix", "operations", "permission", "host")
		out = append(out, s)
	}
	return out
}

// nonNil marks a key that was present, even with an empty list.
func (p *parser) nonNil(ps []posString) []posString {
	if ps == nil {
		return []posString{}
	}
	return ps
}

// scalar reads a string value, reporting anything else.
func (p *parser) scalar(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s must be a string, not %s", what, kindName(n))
		return ""
	}
	return n.Value
}

// stringList reads a list of strings; a single string is a list of one.
func (p *parser) stringList(n *yaml.Node, what string) []posString {
	n = resolveAlias(n)
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []posString{{v: n.Value, pos: p.pos(n)}}
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list, e.g. [read, describe], not %s", what, kindName(n))
		return nil
	}
	var out []posString
	for _, e := range n.Content {
		e = resolveAlias(e)
		if e.Kind != yaml.ScalarNode || e.Tag == "!!null" {
			p.errorf(e, "%s: each entry must be a string, not %s", what, kindName(e))
			continue
		}
		out = append(out, posString{v: e.Value, pos: p.pos(e)})
	}
	return out
}

// expand turns an entry into one ACL per resource and operation,
// reporting what Kafka would refuse (or kafka-acls.sh would).
func (s aclSpec) expand() ([]ACL, []Problem) {
	var ps []Problem
	if typ, name, ok := strings.Cut(s.principal, ":"); !ok || typ == "" || name == "" {
		ps = append(ps, errorAt(s.pos, "acl principal %q must be TYPE:NAME, e.g. User:alice", s.principal))
	}
	rt := ResourceType(strings.ToLower(s.resource.v))
	ops, known := resourceOps[rt]
	switch {
	case s.resource.v == "":
		ps = append(ps, errorAt(s.pos, "acl for %s has no resource: add resource: topic, group, cluster or transactional-id", s.principal))
	case !known:
		ps = append(ps, errorAt(s.resource.pos, "acl resource %q: use topic, group, cluster or transactional-id", s.resource.v))
	}
	// resources are the (name, pattern) pairs the entry covers.
	type resource struct {
		name    string
		pattern Pattern
	}
	var resources []resource
	switch {
	case rt == ResourceCluster && s.prefixes != nil:
		ps = append(ps, errorAt(s.pos, "acl on the cluster takes no prefix: there is one cluster"))
	case rt == ResourceCluster:
		for _, n := range s.names {
			if n.v != ClusterResourceName {
				ps = append(ps, errorAt(n.pos, "acl on the cluster: its name is %s (or leave name out), not %q", ClusterResourceName, n.v))
			}
		}
		resources = append(resources, resource{ClusterResourceName, PatternLiteral})
	case (s.names == nil) == (s.prefixes == nil):
		ps = append(ps, errorAt(s.pos, "acl for %s on %s: give exactly one of name: (a %s or a list, \"*\" for all) and prefix:", s.principal, rt, rt))
	case len(s.names)+len(s.prefixes) == 0:
		ps = append(ps, errorAt(s.pos, "acl for %s: the name or prefix list is empty", s.principal))
	}
	if rt != ResourceCluster {
		for _, n := range s.names {
			resources = append(resources, resource{n.v, PatternLiteral})
		}
		for _, n := range s.prefixes {
			resources = append(resources, resource{n.v, PatternPrefixed})
		}
		for _, r := range resources {
			if r.name == "" {
				ps = append(ps, errorAt(s.pos, "acl for %s: an empty name or prefix matches nothing; use name: \"*\" for every %s", s.principal, rt))
			}
		}
	}
	perm := Permission(strings.ToLower(s.permission.v))
	if _, ok := permissionCodes[perm]; !ok {
		ps = append(ps, errorAt(s.permission.pos, "acl permission %q: use allow or deny", s.permission.v))
	}
	if s.host == "" {
		ps = append(ps, errorAt(s.pos, "acl host is empty: use \"*\" for any host"))
	}
	if len(s.operations) == 0 {
		ps = append(ps, errorAt(s.pos, "acl for %s has no operations: add operations: [read, describe] or similar", s.principal))
	}
	for _, o := range s.operations {
		if op := Operation(strings.ToLower(o.v)); known && !slices.Contains(ops, op) {
			ps = append(ps, errorAt(o.pos, "acl operation %q does not apply to a %s: use %s", o.v, rt, joinOps(ops)))
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	var out []ACL
	for _, r := range resources {
		for _, o := range s.operations {
			out = append(out, ACL{Principal: s.principal, Host: s.host, ResourceType: rt, Name: r.name, Pattern: r.pattern,
				Operation: Operation(strings.ToLower(o.v)), Permission: perm, Pos: s.pos})
		}
	}
	return out, nil
}

func joinOps(ops []Operation) string {
	s := make([]string, len(ops))
	for i, o := range ops {
		s[i] = string(o)
	}
	return strings.Join(s, ", ")
}

// sortACLs orders ACLs by principal, resource and operation, as plans and
// exports list them.
func sortACLs(as []ACL) {
	sort.Slice(as, func(i, j int) bool { return aclLess(as[i], as[j]) })
}

func aclLess(a, b ACL) bool {
	ka := [...]string{a.Principal, string(a.ResourceType), a.Name, string(a.Pattern), string(a.Permission), string(a.Operation), a.Host}
	kb := [...]string{b.Principal, string(b.ResourceType), b.Name, string(b.Pattern), string(b.Permission), string(b.Operation), b.Host}
	return slices.Compare(ka[:], kb[:]) < 0
}
