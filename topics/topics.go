// Package topics keeps Kafka topics as code: a topics.yaml declares the
// topics, their partition counts, replication factors and configs, and this
// package validates the file, plans the difference to a live cluster and
// applies it — safely, exactly and in batches.
//
// # Verbs
//
// The verbs are separate so each can be used, tested and trusted alone:
//
//   - [Load] (or [Parse]) reads files and resolves defaults and the chosen
//     environment into a [Desired] state; [Validate] checks it offline and
//     reports every problem with its file:line.
//   - [Plan] reads the cluster (metadata for topic names and placement,
//     configs only for declared topics) and computes a [*PlanResult]: creates,
//     partition increases, replication-factor changes, config sets and
//     removals, deletes of managed topics, and blocked changes with their
//     reason. Planning never writes.
//   - [Apply] executes a plan with one CreateTopics, one CreatePartitions and
//     one IncrementalAlterConfigs request, reassigns replicas for
//     replication-factor changes, deletes only when allowed, and waits until
//     the cluster reflects every change.
//   - [Export] writes a topics file for the topics a cluster has, so an
//     existing cluster is adopted without hand work.
//
// [Sync] chains Load, Plan and Apply for programs such as `ksuite up` that
// just want the declared topics to exist.
//
// # Safety
//
// A partition decrease is blocked, never done by recreating the topic. A
// topic is deleted only when it lies inside a manage prefix, the file no
// longer declares it and the caller allows deletes. Topics whose names start
// with "__" (Kafka's internal topics) are never touched. A config the file
// does not declare is left alone unless it is a topic-level override, which
// is removed so the file stays the single source of truth; configs are only
// ever changed with IncrementalAlterConfigs, never the legacy full-replace
// AlterConfigs.
//
// See docs/topics.md for the file format and the commands built on this
// package.
package topics

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Desired is the state the topics files declare, resolved for one
// environment. Build it with [Load] or [Parse], or in code.
type Desired struct {
	// Topics are the declared topics, sorted by name.
	Topics []Topic
	// Manage lists the topic name prefixes the files own: only topics with
	// one of these prefixes are ever deleted. Empty means nothing is deleted
	// and undeclared topics are reported as unmanaged.
	Manage []string
	// Warnings are problems that do not stop planning, such as topic names
	// that collide on '.' versus '_'.
	Warnings []Problem
	// Limits bounds the partitions [Validate] and [Plan] accept; the zero
	// value means [DefaultLimits].
	Limits Limits
	// ACLs are the declared access control bindings, one per operation,
	// sorted. They are planned only on a cluster with an authorizer.
	ACLs []ACL
	// ManagePrincipals are principals whose ACLs the files own beyond
	// those the acls: section names: an ACL of an owned principal that no
	// entry declares is deleted (with --allow-delete).
	ManagePrincipals []string

	managePos []posString
}

// ownsPrincipal reports whether the files own the ACLs of principal: it
// is declared in acls: or listed in manage.principals.
func (d *Desired) ownsPrincipal(principal string) bool {
	if slices.Contains(d.ManagePrincipals, principal) {
		return true
	}
	return slices.ContainsFunc(d.ACLs, func(a ACL) bool { return a.Principal == principal })
}

// Topic is one declared topic after defaults and overlays.
type Topic struct {
	// Name is the topic name.
	Name string
	// Partitions is the partition count.
	Partitions int32
	// ReplicationFactor is the number of replicas of each partition.
	ReplicationFactor int16
	// Config holds topic-level configs as Kafka's strings, e.g.
	// "retention.ms": "604800000". Keys not named here keep the cluster's
	// defaults.
	Config map[string]string
	// Pos is where the topic is declared.
	Pos Pos

	// fieldPos is where each field got its value (a default, an overlay or
	// the topic itself), for problems found after merging.
	fieldPos      map[string]Pos
	rawPartitions int64
	rawRF         int64
}

const (
	fieldPartitions = "partitions"
	fieldRF         = "replication-factor"
)

func configField(key string) string { return "config." + key }

// at is where field got its value, or the topic's own position.
func (t Topic) at(field string) Pos {
	if p, ok := t.fieldPos[field]; ok {
		return p
	}
	return t.Pos
}

// managedBy returns the manage prefix that owns topic, or "" when none
// does and the topic is not the files' to delete.
func (d *Desired) managedBy(topic string) string {
	for _, p := range d.Manage {
		if p != "" && strings.HasPrefix(topic, p) {
			return p
		}
	}
	return ""
}

// Sync makes the cluster match the topics files at paths for env ("" for
// none): it loads and validates the files, plans, and applies the plan —
// topics, then ACLs on a cluster with an authorizer — writing progress
// lines to progress (nil for none). It never deletes topics or ACLs. It is
// what `ksuite up` runs at start-up.
//
// A plan with a blocked change (such as a partition decrease) returns an
// error wrapping [ErrBlocked] and changes nothing. The returned [Summary]
// counts what was applied.
func Sync(ctx context.Context, cl *kgo.Client, paths []string, env string, progress io.Writer) (Summary, error) {
	d, err := Load(env, paths...)
	if err != nil {
		return Summary{}, err
	}
	return SyncDesired(ctx, cl, d, progress)
}

// SyncDesired is [Sync] for a desired state already loaded, e.g. with
// [Desired.Limits] set.
func SyncDesired(ctx context.Context, cl *kgo.Client, d *Desired, progress io.Writer) (Summary, error) {
	if progress != nil {
		for _, w := range d.Warnings {
			fmt.Fprintln(progress, w)
		}
	}
	p, err := Plan(ctx, cl, d)
	if err != nil {
		return Summary{}, err
	}
	if progress != nil && p.ACLsSkipped != "" {
		fmt.Fprintln(progress, "ACLs not applied: "+p.ACLsSkipped)
	}
	res, err := Apply(ctx, cl, p, ApplyOptions{Progress: progress})
	return res.Applied, err
}
