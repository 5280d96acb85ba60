package topics

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// planJSON is the documented JSON shape of a plan (docs/topics.md). Adding
// a field is compatible; renaming or removing one is not.
type planJSON struct {
	Changes     []Change    `json:"changes"`
	ACLs        []ACLChange `json:"acls"`
	ACLsSkipped string      `json:"aclsSkipped"`
	Summary     Summary     `json:"summary"`
}

// MarshalJSON writes {"changes":[...],"acls":[...],"aclsSkipped":"",
// "summary":{...}}; the lists are [] (not null) when empty, so
// `jq '.changes | length'` always works.
func (p *PlanResult) MarshalJSON() ([]byte, error) {
	changes, acls := p.Changes, p.ACLs
	if changes == nil {
		changes = []Change{}
	}
	if acls == nil {
		acls = []ACLChange{}
	}
	return json.Marshal(planJSON{Changes: changes, ACLs: acls, ACLsSkipped: p.ACLsSkipped, Summary: p.Summary()})
}

// changeJSON is one change in the documented JSON shape: every field is
// present, so scripts can read .partitions.to without testing for absence.
type changeJSON struct {
	Topic             string         `json:"topic"`
	Action            Action         `json:"action"`
	Partitions        Delta          `json:"partitions"`
	ReplicationFactor Delta          `json:"replicationFactor"`
	Config            []ConfigChange `json:"config"`
	Reason            string         `json:"reason"`
}

// MarshalJSON writes the change with every field: an update shows an
// unchanged count as from == to, and config is [] when no key changes.
func (c Change) MarshalJSON() ([]byte, error) {
	j := changeJSON{Topic: c.Topic, Action: c.Action, Config: c.Config, Reason: c.Reason}
	if j.Config == nil {
		j.Config = []ConfigChange{}
	}
	j.Partitions = deltaOrUnchanged(c.Partitions, c.partitions)
	j.ReplicationFactor = deltaOrUnchanged(c.ReplicationFactor, c.rf)
	return json.Marshal(j)
}

// deltaOrUnchanged is d, or from == to == current when d is nil.
func deltaOrUnchanged(d *Delta, current int) Delta {
	if d != nil {
		return *d
	}
	return Delta{From: &current, To: &current}
}

// WriteJSON writes the plan as indented JSON followed by a newline.
func (p *PlanResult) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Symbols that start each change in the text form, as in `terraform plan`.
var symbols = map[Action]string{
	ActionCreate:  "+",
	ActionUpdate:  "~",
	ActionDelete:  "-",
	ActionBlocked: "!",
}

// maxUnmanagedListed bounds the unmanaged names printed: a shared cluster
// can hold thousands, and the count says enough beyond a screenful.
const maxUnmanagedListed = 20

// WriteText writes the plan for a person: one block per topic, led by
// + create, ~ update, - delete or ! blocked, then a summary line.
func (p *PlanResult) WriteText(w io.Writer) error {
	var b strings.Builder
	if !p.HasChanges() {
		b.WriteString("No changes: the cluster matches the topics files.\n")
	}
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "%s %s", symbols[c.Action], c.Topic)
		if c.Action == ActionBlocked || c.Action == ActionDelete {
			fmt.Fprintf(&b, " (%s)", c.Action)
		}
		b.WriteByte('\n')
		if c.Partitions != nil {
			fmt.Fprintf(&b, "    partitions:         %s\n", deltaText(c.Partitions))
		}
		if c.ReplicationFactor != nil {
			fmt.Fprintf(&b, "    replication-factor: %s\n", deltaText(c.ReplicationFactor))
		}
		for _, cc := range c.Config {
			switch {
			case cc.Op == OpDelete:
				fmt.Fprintf(&b, "    - config %s: %s (override removed, back to the default)\n", cc.Key, strOrNone(cc.From))
			case cc.From == nil:
				fmt.Fprintf(&b, "    + config %s: %s\n", cc.Key, strOrNone(cc.To))
			default:
				fmt.Fprintf(&b, "    ~ config %s: %s → %s\n", cc.Key, strOrNone(cc.From), strOrNone(cc.To))
			}
		}
		if c.Reason != "" {
			label := "note"
			if c.Action == ActionBlocked {
				label = "blocked"
			}
			fmt.Fprintf(&b, "    %s: %s\n", label, c.Reason)
		}
	}
	writeACLText(&b, p)
	if p.HasChanges() {
		s := p.Summary()
		fmt.Fprintf(&b, "\nPlan: %d to create, %d to update, %d to delete, %d blocked.%s\n", s.Create, s.Update, s.Delete, s.Blocked, aclSummaryText(p))
	}
	if n := len(p.Unmanaged); n > 0 {
		shown := p.Unmanaged
		more := ""
		if n > maxUnmanagedListed {
			shown = shown[:maxUnmanagedListed]
			more = fmt.Sprintf(", … and %d more", n-maxUnmanagedListed)
		}
		fmt.Fprintf(&b, "\nUnmanaged (%d, not in the files and outside manage prefixes; never changed): %s%s\n", n, strings.Join(shown, ", "), more)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func deltaText(d *Delta) string {
	switch {
	case d.From == nil && d.To != nil:
		return strconv.Itoa(*d.To)
	case d.From != nil && d.To == nil:
		return strconv.Itoa(*d.From)
	case d.From != nil && d.To != nil && *d.From == *d.To:
		return strconv.Itoa(*d.To)
	case d.From != nil && d.To != nil:
		return strconv.Itoa(*d.From) + " → " + strconv.Itoa(*d.To)
	}
	return "?"
}

func strOrNone(s *string) string {
	if s == nil {
		return "(none)"
	}
	if *s == "" {
		return `""`
	}
	return *s
}
