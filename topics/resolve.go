package topics

import (
	"fmt"
	"sort"
	"strings"
)

// resolve applies each file's defaults and the chosen environment's overlay
// to the file's own topics, merges the files, and validates the result.
//
// Precedence, lowest first: defaults, the topic's own fields, the
// environment's defaults, the environment's entry for the topic. An
// environment is an overlay on the whole file, so `dev: {defaults:
// {replication-factor: 1}}` makes every topic of the file single-replica in
// dev, even one that spells out its production factor.
func resolve(files []*file, env string, problems []Problem) (*Desired, error) {
	d := &Desired{}
	first := map[string]Pos{}
	manage := map[string]bool{}
	envFound := env == ""
	var envNames []string
	for _, f := range files {
		for _, m := range f.manage {
			if !manage[m.v] {
				manage[m.v] = true
				d.Manage = append(d.Manage, m.v)
			}
			d.managePos = append(d.managePos, m)
		}
		e, ok := f.envs[env]
		if env != "" && ok {
			envFound = true
		}
		envNames = append(envNames, f.envOrder...)
		overlay := map[string]topicSpec{}
		if ok {
			for _, t := range e.topics {
				if prev, dup := overlay[t.name.v]; dup {
					problems = append(problems, errorAt(t.name.pos, "environment %s declares topic %q twice (also at %s): keep one", env, t.name.v, prev.name.pos))
					continue
				}
				overlay[t.name.v] = t
			}
		}
		declared := append([]topicSpec(nil), f.topics...)
		// An environment may add a topic the base does not declare, e.g. a
		// scratch topic that only exists in dev.
		base := map[string]bool{}
		for _, t := range f.topics {
			base[t.name.v] = true
		}
		for _, t := range e.topics {
			if !base[t.name.v] {
				declared = append(declared, topicSpec{name: t.name})
			}
		}
		for _, t := range declared {
			layers := []spec{f.defaults, t.spec}
			if ok {
				layers = append(layers, e.defaults, overlay[t.name.v].spec)
			}
			topic := merge(t.name, layers)
			if p, dup := first[topic.Name]; dup {
				problems = append(problems, errorAt(t.name.pos, "topic %q is declared twice: at %s and at %s: keep one declaration", topic.Name, p, t.name.pos))
				continue
			}
			first[topic.Name] = t.name.pos
			d.Topics = append(d.Topics, topic)
		}
	}
	problems = append(problems, resolveACLs(d, files)...)
	if !envFound {
		problems = append(problems, Problem{Severity: SeverityError, Message: fmt.Sprintf("environment %q is not declared in any topics file (declared: %s): fix --env or add environments.%s", env, listOrNone(envNames), env)})
	}
	sort.Slice(d.Topics, func(i, j int) bool { return d.Topics[i].Name < d.Topics[j].Name })
	problems = append(problems, validateFile(d)...)
	return d.finish(problems)
}

// merge folds the layers of one topic, later layers winning field by field
// and config key by config key.
func merge(name posString, layers []spec) Topic {
	t := Topic{Name: name.v, Pos: name.pos, Config: map[string]string{}, fieldPos: map[string]Pos{}}
	for _, l := range layers {
		if l.partitions != nil {
			t.Partitions = clampInt32(l.partitions.v)
			t.fieldPos[fieldPartitions] = l.partitions.pos
			t.rawPartitions = l.partitions.v
		}
		if l.rf != nil {
			t.ReplicationFactor = clampInt16(l.rf.v)
			t.fieldPos[fieldRF] = l.rf.pos
			t.rawRF = l.rf.v
		}
		for _, kv := range l.config {
			t.Config[kv.key] = kv.value
			t.fieldPos[configField(kv.key)] = kv.pos
		}
	}
	if len(t.Config) == 0 {
		t.Config = nil
	}
	return t
}

// clampInt32 keeps an out-of-range count out of range after conversion so
// validation still reports it instead of a wrapped-around value.
func clampInt32(v int64) int32 {
	switch {
	case v > 1<<31-1:
		return -1
	case v < -1<<31:
		return -1
	}
	return int32(v)
}

func clampInt16(v int64) int16 {
	if v > 1<<15-1 || v < -1<<15 {
		return -1
	}
	return int16(v)
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// resolveACLs expands every file's acls: entries into d.ACLs and collects
// manage.principals. The same binding declared twice is an error, as a
// topic declared twice is.
func resolveACLs(d *Desired, files []*file) []Problem {
	var problems []Problem
	first := map[ACL]Pos{}
	owned := map[string]bool{}
	for _, f := range files {
		for _, s := range f.acls {
			as, ps := s.expand()
			problems = append(problems, ps...)
			for _, a := range as {
				if prev, dup := first[a.key()]; dup {
					problems = append(problems, errorAt(a.Pos, "acl %s is declared twice (also at %s): keep one", a, prev))
					continue
				}
				first[a.key()] = a.Pos
				d.ACLs = append(d.ACLs, a)
			}
		}
		for _, p := range f.managePrincipals {
			if typ, name, ok := strings.Cut(p.v, ":"); !ok || typ == "" || name == "" {
				problems = append(problems, errorAt(p.pos, "manage.principals: %q must be TYPE:NAME, e.g. User:alice", p.v))
				continue
			}
			if !owned[p.v] {
				owned[p.v] = true
				d.ManagePrincipals = append(d.ManagePrincipals, p.v)
			}
		}
	}
	sortACLs(d.ACLs)
	sort.Strings(d.ManagePrincipals)
	return problems
}
