package embedded

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The data directory is kfake's (third_party/kfake/persist.go): meta.json
// and topics.json name the cluster and its topics, partitions/<topic>-<p>/
// holds each partition's segment files (<base>.dat, raw record batches)
// with an index (<base>.idx) and, after a clean shutdown, snapshot.json;
// groups.log and pids.log are append logs of framed entries. kfake loads
// whatever it finds and skips what it cannot read, so a damaged directory
// would silently start emptier than it was: the checks here find that
// first. ksuite adds two files: .lock, held while a cluster runs, and
// cleanMarker, present only while the directory rests after a clean
// shutdown, when every snapshot.json is exact.
const (
	lockFile    = ".lock"
	cleanMarker = ".clean-shutdown"
	persistVer  = 1 // kfake's currentPersistVersion
)

var errLocked = errors.New("locked by another process")

// DataDirLockedError reports a data directory another `ksuite up` is using.
type DataDirLockedError struct{ Dir string }

func (e *DataDirLockedError) Error() string {
	return fmt.Sprintf("data directory %s is in use by another ksuite up: stop it, or pass another --data-dir or --in-memory", e.Dir)
}

// DamagedError reports a data directory whose files do not add up: starting
// from it would silently lose topics, records or committed offsets.
type DamagedError struct {
	Dir      string
	Findings []Finding
}

func (e *DamagedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "data directory %s is damaged:", e.Dir)
	for _, f := range e.Findings {
		b.WriteString("\n  " + f.Problem)
	}
	fmt.Fprintf(&b, "\nstart with --repair to rebuild what the segment files hold and report what was lost, or move %s away to start empty", e.Dir)
	return b.String()
}

// Finding is one damage in a data directory.
type Finding struct {
	// File is the damaged file or directory, relative to the data directory.
	File string
	// Problem says what is wrong, naming File.
	Problem string

	lost   string // what repairing it loses, for the repair report
	repair func(nodes int) error
}

// dataDir is a locked data directory.
type dataDir struct {
	path  string
	lock  *os.File
	clean bool // the last cluster here shut down cleanly
}

// openDataDir creates and locks dir.
func openDataDir(dir string) (*dataDir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory %s: %w (choose another with --data-dir)", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w: make it writable or choose another --data-dir", dir, err)
	}
	if err := tryLock(f); err != nil {
		_ = f.Close()
		if errors.Is(err, errLocked) {
			return nil, &DataDirLockedError{Dir: dir}
		}
		return nil, fmt.Errorf("locking data directory %s: %w", dir, err)
	}
	_, err = os.Stat(filepath.Join(dir, cleanMarker))
	return &dataDir{path: dir, lock: f, clean: err == nil}, nil
}

func (d *dataDir) close() {
	_ = unlock(d.lock)
	_ = d.lock.Close()
}

func (d *dataDir) file(name ...string) string {
	return filepath.Join(append([]string{d.path}, name...)...)
}

// startDirty removes the clean-shutdown marker before the cluster writes:
// from now until a clean Close, snapshots may be stale.
func (d *dataDir) startDirty() error {
	if err := os.Remove(d.file(cleanMarker)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("data directory %s: %w", d.path, err)
	}
	return syncDir(d.path)
}

// markClean records that the cluster shut down cleanly and synced its
// files, so that the next start can hold the snapshots to their word.
func (d *dataDir) markClean() error {
	if err := os.WriteFile(d.file(cleanMarker), nil, 0o644); err != nil {
		return fmt.Errorf("data directory %s: %w", d.path, err)
	}
	return syncDir(d.path)
}

// persisted state as kfake writes it (the fields ksuite reads).
type (
	metaFile struct {
		Version   int    `json:"version"`
		ClusterID string `json:"cluster_id"`
	}
	topicsFile struct {
		Version int           `json:"version"`
		Topics  []topicRecord `json:"topics"`
	}
	topicRecord struct {
		Name       string            `json:"name"`
		ID         string            `json:"id"`
		Partitions int               `json:"partitions"`
		Replicas   int               `json:"replicas"`
		Configs    map[string]string `json:"configs,omitempty"`
	}
	snapshotFile struct {
		Segments []struct {
			BaseOffset int64 `json:"base_offset"`
			Size       int64 `json:"size"`
		} `json:"segments"`
	}
)

// partDir is kfake's partDir: partitions/<url-escaped topic>-<partition>.
func partDir(topic string, p int) string {
	return filepath.Join("partitions", url.PathEscape(topic)+"-"+strconv.Itoa(p))
}

// partitionDirs lists partitions/ as topic -> partition -> holds records.
func (d *dataDir) partitionDirs() (map[string]map[int]bool, error) {
	out := map[string]map[int]bool{}
	entries, err := os.ReadDir(d.file("partitions"))
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		i := strings.LastIndexByte(e.Name(), '-')
		if !e.IsDir() || i < 0 {
			continue
		}
		topic, err1 := url.PathUnescape(e.Name()[:i])
		p, err2 := strconv.Atoi(e.Name()[i+1:])
		if err1 != nil || err2 != nil || p < 0 {
			continue
		}
		if out[topic] == nil {
			out[topic] = map[int]bool{}
		}
		out[topic][p] = holdsRecords(d.file("partitions", e.Name()))
	}
	return out, nil
}

// holdsRecords reports whether a partition directory has a non-empty segment.
func holdsRecords(dir string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".dat") && info.Size() > 0 {
			return true
		}
	}
	return false
}

// check finds what is damaged. Every finding carries its repair.
func (d *dataDir) check() ([]Finding, error) {
	parts, err := d.partitionDirs()
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", d.path, err)
	}
	var findings []Finding
	var meta metaFile
	switch err := readJSON(d.file("meta.json"), &meta); {
	case errors.Is(err, fs.ErrNotExist):
		if d.fresh(parts) {
			return nil, nil
		}
		findings = append(findings, d.rebuildMeta("meta.json is missing, but the directory holds a cluster's files"))
	case err != nil:
		findings = append(findings, d.rebuildMeta(fmt.Sprintf("meta.json cannot be read: %v", err)))
	}

	var topics topicsFile
	switch err := readJSON(d.file("topics.json"), &topics); {
	case errors.Is(err, fs.ErrNotExist):
		findings = append(findings, d.rebuildTopics(nil, parts, fmt.Sprintf("topics.json is missing: the %d topic(s) in partitions/ would not be served", len(parts))))
	case err != nil:
		findings = append(findings, d.rebuildTopics(nil, parts, fmt.Sprintf("topics.json cannot be read (%v): the %d topic(s) in partitions/ would not be served", err, len(parts))))
	default:
		findings = append(findings, d.checkTopics(topics, parts)...)
		findings = append(findings, d.checkSegments(topics)...)
		findings = append(findings, d.checkIndexes(topics)...)
	}
	for _, log := range []struct{ name, holds string }{
		{"groups.log", "every consumer group's committed offsets"},
		{"pids.log", "the producers' ids and transactions' state"},
	} {
		if f, ok := d.checkLog(log.name); ok {
			findings = append(findings, f)
		}
		if f, ok := d.checkLogExists(log.name, log.holds); ok {
			findings = append(findings, f)
		}
	}
	return findings, nil
}

// fresh reports whether a directory without meta.json holds nothing of a
// cluster, i.e. is new rather than damaged.
func (d *dataDir) fresh(parts map[string]map[int]bool) bool {
	for _, name := range []string{"topics.json", "groups.log", "pids.log"} {
		if _, err := os.Stat(d.file(name)); err == nil {
			return false
		}
	}
	for _, ps := range parts {
		for _, records := range ps {
			if records {
				return false
			}
		}
	}
	return true
}

func (d *dataDir) rebuildMeta(problem string) Finding {
	return Finding{
		File:    "meta.json",
		Problem: problem,
		lost:    fmt.Sprintf("meta.json rebuilt: the cluster id is now %s", DefaultClusterID),
		repair: func(int) error {
			return writeJSON(d.file("meta.json"), metaFile{Version: persistVer, ClusterID: DefaultClusterID})
		},
	}
}

// rebuildTopics rewrites topics.json from known (what a readable
// topics.json names, nil if none) plus every topic partitions/ holds.
func (d *dataDir) rebuildTopics(known *topicsFile, parts map[string]map[int]bool, problem string) Finding {
	f := Finding{File: "topics.json", Problem: problem}
	if known == nil {
		f.lost = fmt.Sprintf("topics.json rebuilt from partitions/ (%d topics): their configs are lost, apply topics.yaml again to restore them", len(parts))
	}
	f.repair = func(nodes int) error {
		tf := topicsFile{Version: persistVer}
		if known != nil {
			tf = *known
		}
		index := map[string]int{}
		for i, t := range tf.Topics {
			index[t.Name] = i
		}
		for _, name := range sortedKeys(parts) {
			n := 0
			for p := range parts[name] {
				n = max(n, p+1)
			}
			if i, ok := index[name]; ok {
				tf.Topics[i].Partitions = max(tf.Topics[i].Partitions, n)
				continue
			}
			tf.Topics = append(tf.Topics, topicRecord{Name: name, ID: newTopicID(), Partitions: n, Replicas: min(3, nodes)})
		}
		// Every partition named gets its directory, so the next check
		// finds the directory whole.
		for _, t := range tf.Topics {
			for p := range t.Partitions {
				if err := os.MkdirAll(d.file(partDir(t.Name, p)), 0o755); err != nil {
					return err
				}
			}
		}
		return writeJSON(d.file("topics.json"), tf)
	}
	return f
}

// checkTopics compares topics.json with partitions/: records of a topic or
// partition it does not name, and named partitions without a directory.
func (d *dataDir) checkTopics(topics topicsFile, parts map[string]map[int]bool) []Finding {
	named := map[string]int{}
	for _, t := range topics.Topics {
		named[t.Name] = t.Partitions
	}
	var findings []Finding
	orphans := map[string]map[int]bool{}
	for _, name := range sortedKeys(parts) {
		for p, records := range parts[name] {
			if n, ok := named[name]; records && (!ok || p >= n) {
				if orphans[name] == nil {
					orphans[name] = map[int]bool{}
				}
				orphans[name][p] = true
				findings = append(findings, Finding{File: partDir(name, p),
					Problem: fmt.Sprintf("%s holds records of topic %q partition %d, which topics.json does not name", partDir(name, p), name, p),
					lost:    fmt.Sprintf("topic %q partition %d (from %s) added back to topics.json", name, p, partDir(name, p))})
			}
		}
	}
	if len(orphans) > 0 {
		// One rewrite of topics.json repairs them all.
		findings[0].repair = d.rebuildTopics(&topics, orphans, "").repair
	}
	for _, t := range topics.Topics {
		for p := range t.Partitions {
			dir := partDir(t.Name, p)
			if _, err := os.Stat(d.file(dir)); errors.Is(err, fs.ErrNotExist) {
				findings = append(findings, Finding{File: dir,
					Problem: fmt.Sprintf("%s is missing: topic %q partition %d has no files", dir, t.Name, p),
					lost:    fmt.Sprintf("topic %q partition %d starts empty: its records are lost", t.Name, p),
					repair:  func(int) error { return os.MkdirAll(d.file(dir), 0o755) }})
			}
		}
	}
	return findings
}

// checkSegments holds, after a clean shutdown, every partition to its
// snapshot.json: a segment missing or shorter than the snapshot says lost
// records. After a crash snapshots may be stale and are not checked.
func (d *dataDir) checkSegments(topics topicsFile) []Finding {
	if !d.clean {
		return nil
	}
	var findings []Finding
	for _, t := range topics.Topics {
		for p := range t.Partitions {
			dir := partDir(t.Name, p)
			var snap snapshotFile
			if err := readJSON(d.file(dir, "snapshot.json"), &snap); err != nil {
				continue
			}
			for _, s := range snap.Segments {
				name := filepath.Join(dir, strconv.FormatInt(s.BaseOffset, 10)+".dat")
				var size int64
				if info, err := os.Stat(d.file(name)); err == nil {
					size = info.Size()
				} else if !errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if size >= s.Size {
					continue
				}
				findings = append(findings, Finding{File: name,
					Problem: fmt.Sprintf("%s has %d of the %d bytes it had at the last clean shutdown", name, size, s.Size),
					lost:    fmt.Sprintf("%s: %d bytes of records from offset %d on are lost", name, s.Size-size, s.BaseOffset),
					// Without the snapshot kfake rebuilds the partition from
					// what the segments hold.
					repair: func(int) error { return removeIfExists(d.file(dir, "snapshot.json")) }})
			}
		}
	}
	return findings
}

// indexEntrySize is the size of one entry of a segment's index (<base>.idx),
// one per record batch (kfake's indexEntrySize).
const indexEntrySize = 15

// checkIndexes holds, after a crash, every segment to its index. kfake
// writes a batch to the segment before the batch's entry to the index, so
// a crash can leave a batch without its entry, never an entry without its
// batch: an index listing more batches than its segment holds whole means
// records were lost after they were written (the segment truncated,
// deleted or corrupted, or not yet on disk when the OS crashed). kfake
// would drop them, and every later batch of the segment, with a warning
// at most. After a clean shutdown checkSegments does this job.
func (d *dataDir) checkIndexes(topics topicsFile) []Finding {
	if d.clean {
		return nil
	}
	var findings []Finding
	for _, t := range topics.Topics {
		for p := range t.Partitions {
			dir := partDir(t.Name, p)
			entries, err := os.ReadDir(d.file(dir))
			if err != nil {
				continue // a missing directory is checkTopics' finding
			}
			lastSegment := int64(-1)
			for _, e := range entries {
				if b, ok := strings.CutSuffix(e.Name(), ".dat"); ok {
					n, _ := strconv.ParseInt(b, 10, 64)
					lastSegment = max(lastSegment, n)
				}
			}
			for _, e := range entries {
				base, ok := strings.CutSuffix(e.Name(), ".idx")
				info, err := e.Info()
				if !ok || err != nil || info.Size() < indexEntrySize {
					continue
				}
				if n, _ := strconv.ParseInt(base, 10, 64); n < lastSegment && !exists(d.file(dir, base+".dat")) {
					// Retention deletes a log's oldest segments, each
					// segment file before its index: a crash in between
					// leaves an index alone below the segments kept.
					continue
				}
				indexed := info.Size() / indexEntrySize
				name := filepath.Join(dir, base+".dat")
				whole, next, err := countBatches(d.file(name), base)
				if err != nil || whole >= indexed {
					continue
				}
				idx, snapshot := d.file(dir, e.Name()), d.file(dir, "snapshot.json")
				findings = append(findings, Finding{File: name,
					Problem: fmt.Sprintf("%s holds %d whole record batches, but its index lists %d: records written to it were lost", name, whole, indexed),
					lost:    fmt.Sprintf("%s: %d record batch(es) from offset %d on are lost", name, indexed-whole, next),
					// The index then matches what the segment holds, and
					// without a snapshot kfake rebuilds the partition from
					// the segments, cutting what is not whole.
					repair: func(int) error {
						return errors.Join(truncateOrRemove(idx, whole*indexEntrySize), removeIfExists(snapshot))
					}})
			}
		}
	}
	return findings
}

// countBatches counts the whole, intact record batches at the start of a
// segment file, as kfake's load reads them (length, then CRC-32C), and
// returns the offset after the last one (base's when there is none). A
// missing segment holds none.
func countBatches(path, base string) (whole int64, next int64, err error) {
	if next, err = strconv.ParseInt(base, 10, 64); err != nil {
		return 0, 0, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, next, nil
	}
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var head [27]byte // FirstOffset, Length, PartitionLeaderEpoch, Magic, CRC, Attributes, LastOffsetDelta
	var body []byte
	for pos := int64(0); ; {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return whole, next, nil
		}
		length := int64(int32(binary.BigEndian.Uint32(head[8:12])))
		if length < int64(len(head))-12 || pos+12+length > info.Size() {
			return whole, next, nil
		}
		if n := 12 + length - int64(len(head)); int64(cap(body)) < n {
			body = make([]byte, n)
		} else {
			body = body[:n]
		}
		if _, err := io.ReadFull(r, body); err != nil {
			return whole, next, nil
		}
		crc := crc32.Update(crc32.Checksum(head[21:], crc32c), crc32c, body)
		if crc != binary.BigEndian.Uint32(head[17:21]) {
			return whole, next, nil
		}
		whole++
		next = int64(binary.BigEndian.Uint64(head[0:8])) + int64(int32(binary.BigEndian.Uint32(head[23:27]))) + 1
		pos += 12 + length
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// truncateOrRemove cuts path to size bytes, removing it when that is none.
func truncateOrRemove(path string, size int64) error {
	if size == 0 {
		return removeIfExists(path)
	}
	return os.Truncate(path, size)
}

// checkLogExists finds an append log missing after a clean shutdown,
// which always writes both; before the first one, a log is only created
// by its first entry.
func (d *dataDir) checkLogExists(name, holds string) (Finding, bool) {
	if !d.clean || exists(d.file(name)) {
		return Finding{}, false
	}
	return Finding{File: name,
		Problem: fmt.Sprintf("%s is missing: %s would be lost", name, holds),
		lost:    fmt.Sprintf("%s recreated empty: %s are lost", name, holds),
		repair:  func(int) error { return writeFileSynced(d.file(name), nil) }}, true
}

// checkLog checks the framing of an append log (groups.log, pids.log):
// [4 length][4 CRC32C][2 version][data]. An entry cut short at the end is
// what a crash can leave and is allowed unless the last shutdown was
// clean; anything else unreadable would make kfake drop every entry after
// it.
func (d *dataDir) checkLog(name string) (Finding, bool) {
	raw, err := os.ReadFile(d.file(name))
	if err != nil {
		return Finding{}, false
	}
	entries, kept, tornTail := scanLog(raw)
	if kept == len(raw) || (tornTail && !d.clean) {
		return Finding{}, false
	}
	bad := len(raw)
	for _, e := range entries {
		bad -= len(e)
	}
	return Finding{File: name,
		Problem: fmt.Sprintf("%s has %d unreadable bytes: the entries after them (committed offsets, producer state) would be dropped", name, bad),
		lost:    fmt.Sprintf("%s: %d unreadable bytes dropped, %d entries kept; what the dropped bytes held is lost", name, bad, len(entries)),
		repair: func(int) error {
			var out []byte
			for _, e := range entries {
				out = append(out, e...)
			}
			return writeFileSynced(d.file(name), out)
		}}, true
}

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// frameAt returns the length of the valid entry at raw[pos:], or 0 and
// whether an entry there claims to run past the end of raw.
func frameAt(raw []byte, pos int) (n int, pastEnd bool) {
	if pos+10 > len(raw) {
		return 0, true
	}
	length := int(binary.LittleEndian.Uint32(raw[pos:]))
	if length < 2 || length > 1<<30 {
		return 0, false
	}
	end := pos + 8 + length
	if end > len(raw) {
		return 0, true
	}
	if crc32.Checksum(raw[pos+8:end], crc32c) != binary.LittleEndian.Uint32(raw[pos+4:]) {
		return 0, false
	}
	return 8 + length, false
}

// scanLog returns every valid entry of raw, resynchronising after damage
// (a CRC32C match at a wrong place is vanishingly unlikely); kept is the
// length of the leading run of valid entries, the part kfake reads, and
// tornTail reports that all that follows it is one entry cut short.
func scanLog(raw []byte) (entries [][]byte, kept int, tornTail bool) {
	for kept < len(raw) {
		n, pastEnd := frameAt(raw, kept)
		if n == 0 {
			tornTail = pastEnd
			break
		}
		entries = append(entries, raw[kept:kept+n])
		kept += n
	}
	for pos := kept + 1; pos < len(raw); pos++ {
		if n, _ := frameAt(raw, pos); n > 0 {
			tornTail = false
			entries = append(entries, raw[pos:pos+n])
			pos += n - 1
		}
	}
	return entries, kept, tornTail
}

// writable proves that every file and directory kfake writes can be
// written, so that a read-only file is refused at start instead of failing
// produce requests with UNKNOWN_SERVER_ERROR later.
func (d *dataDir) writable() error {
	return filepath.WalkDir(d.path, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			probe, err := os.CreateTemp(path, ".write-probe-*")
			if err != nil {
				return notWritable(d.path, path, err)
			}
			_ = probe.Close()
			return os.Remove(probe.Name())
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return notWritable(d.path, path, err)
		}
		return f.Close()
	})
}

func notWritable(dir, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("data directory %s: %s is not writable (%v): make it writable (chmod -R u+w %s) or choose another --data-dir", dir, path, err, dir)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFileSynced(path, b)
}

// writeFileSynced replaces path with data durably: temp file, fsync,
// rename, directory fsync.
func writeFileSynced(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// newTopicID is a random topic ID as kfake writes it (base64 of 16 bytes).
func newTopicID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
