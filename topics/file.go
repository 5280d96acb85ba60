package topics

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pos is where something was declared: a file and a 1-based line.
type Pos struct {
	File string
	Line int
}

// String is "file:line", the form editors and CI annotations jump to.
func (p Pos) String() string {
	switch {
	case p.File == "":
		return "<input>"
	case p.Line == 0:
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// file is one parsed topics file before defaults and overlays are applied.
// Every value keeps its position so problems found later still point at
// the line that caused them.
type file struct {
	path     string
	defaults spec
	manage   []posString
	topics   []topicSpec
	envs     map[string]envSpec
	envOrder []string
	// acls and managePrincipals are the access control part of the file.
	acls             []aclSpec
	managePrincipals []posString
}

// spec is the part of a topic a defaults block or an overlay may set.
type spec struct {
	partitions *posInt
	rf         *posInt
	config     []posKV
}

type topicSpec struct {
	name posString
	spec
}

type envSpec struct {
	pos      Pos
	defaults spec
	topics   []topicSpec
}

type posString struct {
	v   string
	pos Pos
}

type posInt struct {
	v   int64
	pos Pos
}

type posKV struct {
	key, value string
	pos        Pos
}

// maxFileSize bounds what Load reads: a topics file is hand-written text, and
// a bound keeps a mistaken -f /dev/zero from eating memory.
const maxFileSize = 16 << 20

// Load reads topics files and resolves them for env ("" for none) into the
// desired state. Each path is a file or a directory, whose *.yaml files are
// read in name order. Every problem in every file is reported at once, as a
// [*ValidationError] with file:line positions; warnings that are not errors
// are returned in [Desired.Warnings].
func Load(env string, paths ...string) (*Desired, error) {
	if len(paths) == 0 {
		return nil, errors.New("no topics file given: pass -f topics.yaml (a file or a directory of *.yaml)")
	}
	files, err := expand(paths)
	if err != nil {
		return nil, err
	}
	parsed := make([]*file, 0, len(files))
	var problems []Problem
	for _, path := range files {
		data, err := readFile(path)
		if err != nil {
			return nil, err
		}
		f, ps := parse(path, data)
		problems = append(problems, ps...)
		if f != nil {
			parsed = append(parsed, f)
		}
	}
	return resolve(parsed, env, problems)
}

// Parse parses one topics file held in memory (name is used in positions)
// and resolves it for env. It is [Load] without the file system.
func Parse(name string, data []byte, env string) (*Desired, error) {
	f, problems := parse(name, data)
	var files []*file
	if f != nil {
		files = append(files, f)
	}
	return resolve(files, env, problems)
}

func readFile(path string) ([]byte, error) {
	// Opening a FIFO blocks until something writes to it, and nothing
	// can interrupt that: only regular files are topics files.
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("topics file %s is not a regular file (%s): pass a file or a directory of *.yaml files", path, st.Mode().Type())
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("topics file: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("topics file %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("topics file %s is larger than %d MiB: is it the right file?", path, maxFileSize>>20)
	}
	return data, nil
}

// expand turns -f arguments into file paths: a directory contributes its
// *.yaml files (not recursively, so a nested overlay directory is not picked
// up by accident).
func expand(paths []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("topics file: %w", err)
		}
		if !st.IsDir() {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			continue
		}
		matches, err := filepath.Glob(filepath.Join(p, "*.yaml"))
		if err != nil {
			return nil, err
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("directory %s holds no *.yaml topics files: pass a file or a directory with topics files", p)
		}
		sort.Strings(matches)
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// parser walks a yaml.Node tree, checking the shape and collecting every
// problem instead of stopping at the first.
type parser struct {
	path     string
	problems []Problem
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{File: p.path, Line: n.Line} }

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.problems = append(p.problems, Problem{Pos: p.pos(n), Severity: SeverityError, Message: fmt.Sprintf(format, args...)})
}

// parse reads one file. It returns a nil file only when the YAML itself
// cannot be read.
func parse(path string, data []byte) (*file, []Problem) {
	p := &parser{path: path}
	f := &file{path: path, envs: map[string]envSpec{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []Problem{{Pos: Pos{File: path, Line: yamlErrLine(err)}, Severity: SeverityError, Message: "not valid YAML: " + trimYAMLErr(err)}}
	}
	if len(doc.Content) == 0 {
		return f, nil // an empty file declares nothing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "the file must be a mapping with keys defaults, manage, topics, acls, environments")
		return f, p.problems
	}
	p.mapping(root, "top level", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "defaults":
			f.defaults = p.spec(v, "defaults")
		case "manage":
			f.manage, f.managePrincipals = p.manage(v)
		case "topics":
			f.topics = p.topics(v, "topics")
		case "acls":
			f.acls = p.acls(v)
		case "environments":
			p.mapping(v, "environments", func(name string, k, v *yaml.Node) bool {
				e := envSpec{pos: p.pos(k)}
				p.mapping(v, "environment "+name, func(key string, k, v *yaml.Node) bool {
					switch key {
					case "defaults":
						e.defaults = p.spec(v, "environments."+name+".defaults")
					case "topics":
						e.topics = p.topics(v, "environments."+name+".topics")
					default:
						return false
					}
					return true
				}, "defaults", "topics")
				f.envs[name] = e
				f.envOrder = append(f.envOrder, name)
				return true
			})
		default:
			return false
		}
		return true
	}, "defaults", "manage", "topics", "acls", "environments")
	return f, p.problems
}

// mapping calls fn for every key of a mapping node. fn returns false for a
// key it does not know; that is reported with the allowed keys (when given).
// Duplicate keys are reported too: YAML allows them but the second silently
// wins, which is never what a person meant.
func (p *parser) mapping(n *yaml.Node, what string, fn func(key string, k, v *yaml.Node) bool, allowed ...string) {
	n = resolveAlias(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "defaults:" with nothing under it
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, not %s", what, kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: keys must be plain names", what)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.errorf(k, "%s: key %q appears twice (also on line %d): keep one", what, k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		if !fn(k.Value, k, v) {
			p.errorf(k, "%s: unknown key %q: allowed keys are %s", what, k.Value, strings.Join(allowed, ", "))
		}
	}
}

func (p *parser) spec(n *yaml.Node, what string) spec {
	var s spec
	p.mapping(n, what, func(key string, k, v *yaml.Node) bool {
		switch key {
		case "partitions":
			s.partitions = p.int(v, what+".partitions")
		case "replication-factor":
			s.rf = p.int(v, what+".replication-factor")
		case "config":
			s.config = p.config(v, what+".config")
		default:
			return false
		}
		return true
	}, "partitions", "replication-factor", "config")
	return s
}

func (p *parser) topics(n *yaml.Node, what string) []topicSpec {
	n = resolveAlias(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list of topics (- name: ...), not %s", what, kindName(n))
		return nil
	}
	out := make([]topicSpec, 0, len(n.Content))
	for _, item := range n.Content {
		item = resolveAlias(item)
		if item.Kind != yaml.MappingNode {
			p.errorf(item, "%s: each topic must be a mapping with at least name:, not %s", what, kindName(item))
			continue
		}
		t := topicSpec{name: posString{pos: p.pos(item)}}
		hasName := false
		p.mapping(item, "topic", func(key string, k, v *yaml.Node) bool {
			switch key {
			case "name":
				if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
					p.errorf(v, "topic name must be a string, not %s", kindName(v))
					return true
				}
				t.name = posString{v: v.Value, pos: p.pos(k)}
				hasName = true
			case "partitions":
				t.partitions = p.int(v, "partitions")
			case "replication-factor":
				t.rf = p.int(v, "replication-factor")
			case "config":
				t.config = p.config(v, "config")
			default:
				return false
			}
			return true
		}, "name", "partitions", "replication-factor", "config")
		if !hasName {
			p.errorf(item, "%s: topic without name: add name: <topic>", what)
			continue
		}
		out = append(out, t)
	}
	return out
}

// manage reads manage.prefixes (topics the files own) and
// manage.principals (principals whose ACLs the files own).
func (p *parser) manage(n *yaml.Node) (prefixes, principals []posString) {
	p.mapping(n, "manage", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "prefixes":
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "manage.prefixes must be a list of topic name prefixes, e.g. [signup-, suiteroom-]")
				return true
			}
			prefixes = p.stringList(v, "manage.prefixes")
		case "principals":
			principals = p.stringList(v, "manage.principals")
		default:
			return false
		}
		return true
	}, "prefixes", "principals")
	return prefixes, principals
}

// config reads a config block. Values may be strings, numbers or booleans;
// they become the strings Kafka stores.
func (p *parser) config(n *yaml.Node, what string) []posKV {
	var out []posKV
	p.mapping(n, what, func(key string, k, v *yaml.Node) bool {
		val, ok := scalarValue(v)
		if !ok {
			p.errorf(v, "%s: %s must be a string, number or boolean, not %s", what, key, kindName(v))
			return true
		}
		out = append(out, posKV{key: key, value: val, pos: p.pos(k)})
		return true
	})
	return out
}

// scalarValue renders a YAML scalar as Kafka's string form. Numbers are
// written out in full (1e3 and 0x10 become 1000 and 16) because the broker
// parses config values with Java's number parsers, which take neither.
func scalarValue(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	switch n.Tag {
	case "!!null":
		return "", false
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return "", false
		}
		return strconv.FormatBool(b), true
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return n.Value, true // out of int64 range: let validation name it
		}
		return strconv.FormatInt(i, 10), true
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return n.Value, true
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return strconv.FormatInt(int64(f), 10), true
		}
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	return n.Value, true
}

func (p *parser) int(n *yaml.Node, what string) *posInt {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errorf(n, "%s must be a whole number, not %s", what, kindName(n))
		return nil
	}
	var i int64
	if err := n.Decode(&i); err != nil {
		p.errorf(n, "%s: %q is out of range", what, n.Value)
		return nil
	}
	return &posInt{v: i, pos: p.pos(n)}
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	// Bounded: yaml.v3 rejects alias cycles, but a fuzzer finds chains.
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "empty"
	}
	return fmt.Sprintf("%q", n.Value)
}

// yamlErrLine digs the line out of a yaml.v3 error ("yaml: line 3: ...").
func yamlErrLine(err error) int {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return 0
	}
	s := err.Error()
	if i := strings.Index(s, "line "); i >= 0 {
		rest := s[i+5:]
		j := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if j > 0 {
			if n, err := strconv.Atoi(rest[:j]); err == nil {
				return n
			}
		}
	}
	return 0
}

func trimYAMLErr(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	if strings.HasPrefix(s, "line ") {
		if i := strings.Index(s, ": "); i >= 0 {
			s = s[i+2:]
		}
	}
	return s
}
