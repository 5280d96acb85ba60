package topics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ACLChange is one ACL binding a plan creates or deletes. In JSON it is
// {"action","principal","host","resourceType","name","pattern",
// "operation","permission"}.
type ACLChange struct {
	Action Action `json:"action"`
	ACL
}

// observedACLs is what a cluster's DescribeAcls says.
type observedACLs struct {
	// enabled is false when the cluster has no authorizer.
	enabled bool
	acls    []ACL
}

// readACLs describes every ACL of the cluster. A cluster without an
// authorizer answers SECURITY_DISABLED, which is not an error here.
func readACLs(ctx context.Context, r kmsg.Requestor) (observedACLs, error) {
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = kmsg.ACLResourceTypeAny
	req.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
	req.Operation = kmsg.ACLOperationAny
	req.PermissionType = kmsg.ACLPermissionTypeAny
	resp, err := req.RequestWith(ctx, r)
	if err != nil {
		return observedACLs{}, fmt.Errorf("reading ACLs: %w", err)
	}
	switch err := kerr.ErrorForCode(resp.ErrorCode); {
	case errors.Is(err, kerr.SecurityDisabled):
		return observedACLs{}, nil
	case errors.Is(err, kerr.ClusterAuthorizationFailed):
		return observedACLs{}, fmt.Errorf("reading ACLs: %w: the acls: section needs a user allowed Describe (and Alter, to apply) on the cluster", err)
	case err != nil:
		return observedACLs{}, fmt.Errorf("reading ACLs: %w%s", err, errMessage(resp.ErrorMessage))
	}
	o := observedACLs{enabled: true}
	for _, res := range resp.Resources {
		for _, b := range res.ACLs {
			if a, ok := fromKafka(b.Principal, b.Host, res.ResourceType, res.ResourceName, res.ResourcePatternType, b.Operation, b.PermissionType); ok {
				o.acls = append(o.acls, a)
			}
		}
	}
	sortACLs(o.acls)
	return o, nil
}

// planACLs adds to p what the acls: section changes: every declared
// binding the cluster lacks is created; every binding of a principal the
// files own that they no longer declare is deleted.
func planACLs(ctx context.Context, cl *kgo.Client, d *Desired, p *PlanResult) error {
	if len(d.ACLs) == 0 && len(d.ManagePrincipals) == 0 {
		return nil // nothing declared: do not even ask (the user may not be allowed to)
	}
	o, err := readACLs(ctx, cl)
	if err != nil {
		return err
	}
	p.ACLs, p.ACLsSkipped = diffACLs(d, o)
	return nil
}

// diffACLs is the pure heart of ACL planning.
func diffACLs(d *Desired, o observedACLs) (changes []ACLChange, skipped string) {
	if !o.enabled {
		return nil, fmt.Sprintf("the cluster has no authorizer, so the %d declared ACL(s) are not planned (Apache Kafka: authorizer.class.name; ksuite up: --external-host turns ACLs on)", len(d.ACLs))
	}
	have := make(map[ACL]bool, len(o.acls))
	for _, a := range o.acls {
		have[a.key()] = true
	}
	want := make(map[ACL]bool, len(d.ACLs))
	for _, a := range d.ACLs {
		want[a.key()] = true
		if !have[a.key()] {
			changes = append(changes, ACLChange{Action: ActionCreate, ACL: a.key()})
		}
	}
	for _, a := range o.acls {
		if !want[a.key()] && d.ownsPrincipal(a.Principal) {
			changes = append(changes, ACLChange{Action: ActionDelete, ACL: a})
		}
	}
	return changes, ""
}

// applyACLs creates the plan's new bindings in one CreateAcls request and,
// with AllowDelete, removes the old ones in one DeleteAcls, then waits until
// every broker enforces the result. Kafka has no validate-only mode for
// ACLs: a dry run lists them.
func (a *applier) applyACLs(ctx context.Context) (created, deleted int, err error) {
	var creates, deletes []ACL
	for _, c := range a.p.ACLs {
		if c.Action == ActionCreate {
			creates = append(creates, c.ACL)
		} else {
			deletes = append(deletes, c.ACL)
		}
	}
	if len(deletes) > 0 && !a.opts.AllowDelete {
		for _, d := range deletes {
			a.logf("warning: not deleting ACL %s: pass --allow-delete", d)
		}
		a.skippedACLDeletes, deletes = deletes, nil
	}
	if a.opts.DryRun {
		if n := len(creates) + len(deletes); n > 0 {
			a.logf("dry run: %d ACL(s) to create and %d to delete (Kafka has no validate-only mode for ACLs)", len(creates), len(deletes))
		}
		return len(creates), len(deletes), nil
	}
	start := time.Now()
	var (
		errs       []error
		made, gone []ACL
	)
	if len(creates) > 0 {
		a.logf("creating %d ACL(s)…", len(creates))
		if made, err = a.createACLs(ctx, creates); err != nil {
			errs = append(errs, err)
		}
	}
	if len(deletes) > 0 {
		a.logf("deleting %d ACL(s)…", len(deletes))
		if gone, err = a.deleteACLs(ctx, deletes); err != nil {
			errs = append(errs, err)
		}
	}
	if len(made)+len(gone) > 0 {
		if err := a.waitACLs(ctx, made, gone); err != nil {
			errs = append(errs, err)
		}
		a.logf("  %d ACL(s) created, %d deleted in %s", len(made), len(gone), since(start))
	}
	return len(made), len(gone), errors.Join(errs...)
}

// createACLs sends one CreateAcls and returns the bindings created;
// failures are returned joined, each named.
func (a *applier) createACLs(ctx context.Context, as []ACL) ([]ACL, error) {
	req := kmsg.NewPtrCreateACLsRequest()
	for _, acl := range as {
		c := kmsg.NewCreateACLsRequestCreation()
		c.ResourceType = resourceCodes[acl.ResourceType]
		c.ResourceName = acl.Name
		c.ResourcePatternType = patternCodes[acl.Pattern]
		c.Principal = acl.Principal
		c.Host = acl.Host
		c.Operation = operationCodes[acl.Operation]
		c.PermissionType = permissionCodes[acl.Permission]
		req.Creations = append(req.Creations, c)
	}
	resp, err := req.RequestWith(ctx, a.cl)
	if err != nil {
		return nil, fmt.Errorf("create ACLs: %w", err)
	}
	return aclResults("create", as, resp.Results, func(r kmsg.CreateACLsResponseResult) (int16, *string) {
		return r.ErrorCode, r.ErrorMessage
	})
}

// deleteACLs sends one DeleteAcls with an exact filter per binding and
// returns the bindings deleted.
func (a *applier) deleteACLs(ctx context.Context, as []ACL) ([]ACL, error) {
	req := kmsg.NewPtrDeleteACLsRequest()
	for _, acl := range as {
		f := kmsg.NewDeleteACLsRequestFilter()
		f.ResourceType = resourceCodes[acl.ResourceType]
		f.ResourceName = kmsg.StringPtr(acl.Name)
		f.ResourcePatternType = patternCodes[acl.Pattern]
		f.Principal = kmsg.StringPtr(acl.Principal)
		f.Host = kmsg.StringPtr(acl.Host)
		f.Operation = operationCodes[acl.Operation]
		f.PermissionType = permissionCodes[acl.Permission]
		req.Filters = append(req.Filters, f)
	}
	resp, err := req.RequestWith(ctx, a.cl)
	if err != nil {
		return nil, fmt.Errorf("delete ACLs: %w", err)
	}
	return aclResults("delete", as, resp.Results, func(r kmsg.DeleteACLsResponseResult) (int16, *string) {
		return r.ErrorCode, r.ErrorMessage
	})
}

// aclResults pairs the results of a CreateAcls or DeleteAcls request (verb)
// with the bindings asked for, in order: it returns those that succeeded
// and an error naming each that did not.
func aclResults[R any](verb string, as []ACL, results []R, outcome func(R) (int16, *string)) ([]ACL, error) {
	var errs []error
	var ok []ACL
	for i, r := range results {
		if i >= len(as) {
			break
		}
		if code, msg := outcome(r); code != 0 {
			errs = append(errs, fmt.Errorf("%s ACL %s: %w%s", verb, as[i], kerr.ErrorForCode(code), errMessage(msg)))
			continue
		}
		ok = append(ok, as[i])
	}
	return ok, errors.Join(errs...)
}

// waitACLs polls every broker until each shows the created bindings and
// none of the deleted ones: a broker enforces only what it has learnt,
// and a client may reach any of them right after apply returns.
func (a *applier) waitACLs(ctx context.Context, created, deleted []ACL) error {
	meta, err := readMetadata(ctx, a.cl, []string{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.WaitTimeout)
	defer cancel()
	for {
		pending := ""
		for _, b := range meta.brokers {
			o, err := readACLs(ctx, a.cl.Broker(int(b.id)))
			if err != nil {
				pending = err.Error()
				break
			}
			have := map[ACL]bool{}
			for _, acl := range o.acls {
				have[acl] = true
			}
			if p := aclsPending(have, created, deleted); p != "" {
				pending = fmt.Sprintf("broker %d %s", b.id, p)
				break
			}
		}
		if pending == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the brokers to enforce the ACLs: %w (%s)", ctx.Err(), pending)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// aclsPending names the first change a broker does not show yet.
func aclsPending(have map[ACL]bool, created, deleted []ACL) string {
	for _, c := range created {
		if !have[c.key()] {
			return "lacks " + c.String()
		}
	}
	for _, d := range deleted {
		if have[d.key()] {
			return "still has " + d.String()
		}
	}
	return ""
}

// exportACL is one acls: entry as Export writes it: the operations of one
// principal on one resource, with defaults (allow, any host) left out.
type exportACL struct {
	Principal  string   `yaml:"principal"`
	Resource   string   `yaml:"resource"`
	Name       string   `yaml:"name,omitempty"`
	Prefix     string   `yaml:"prefix,omitempty"`
	Operations []string `yaml:"operations,flow"`
	Permission string   `yaml:"permission,omitempty"`
	Host       string   `yaml:"host,omitempty"`
}

// exportACLs groups bindings into entries, in the order sortACLs gives.
func exportACLs(as []ACL) []exportACL {
	var out []exportACL
	type entry struct{ principal, resource, name, prefix, permission, host string }
	index := map[entry]int{}
	for _, a := range as {
		e := exportACL{Principal: a.Principal, Resource: string(a.ResourceType)}
		switch {
		case a.ResourceType == ResourceCluster:
		case a.Pattern == PatternPrefixed:
			e.Prefix = a.Name
		default:
			e.Name = a.Name
		}
		if a.Permission != PermissionAllow {
			e.Permission = string(a.Permission)
		}
		if a.Host != "*" {
			e.Host = a.Host
		}
		k := entry{e.Principal, e.Resource, e.Name, e.Prefix, e.Permission, e.Host}
		if i, ok := index[k]; ok {
			out[i].Operations = append(out[i].Operations, string(a.Operation))
			continue
		}
		index[k] = len(out)
		e.Operations = []string{string(a.Operation)}
		out = append(out, e)
	}
	return out
}

// aclSummaryText is the ACL part of a plan's summary line, "" without ACLs.
func aclSummaryText(p *PlanResult) string {
	s := p.Summary()
	if s.ACLCreate+s.ACLDelete == 0 {
		return ""
	}
	return fmt.Sprintf(" ACLs: %d to create, %d to delete.", s.ACLCreate, s.ACLDelete)
}

// writeACLText writes the ACL changes, one line each.
func writeACLText(b *strings.Builder, p *PlanResult) {
	for _, c := range p.ACLs {
		fmt.Fprintf(b, "%s acl %s", symbols[c.Action], c.ACL)
		if c.Action == ActionDelete {
			b.WriteString(" (delete: no longer declared for an owned principal)")
		}
		b.WriteByte('\n')
	}
	if p.ACLsSkipped != "" {
		fmt.Fprintf(b, "ACLs not planned: %s\n", p.ACLsSkipped)
	}
}
