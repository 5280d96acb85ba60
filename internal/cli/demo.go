package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksuite/ksuite/suite/demo"
)

func (a *app) demoCmd() *cobra.Command {
	var (
		cfg    demo.Config
		rate   string
		output string
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Drive the Suite services: play payment, contract, hall of fame and settlement, and send traffic",
		Long: `Demo is a driver, not a part of the services. Over Kafka only, it plays the
services outside this repository:

  payment      deposit-payment → suiteroom-join; suiteroom-canceljoin → a refund,
               a share of which fails (--refund-failure-rate) → suiteroom-canceljoin-error
  contract     suiteroom-contract-creation → a share fails (--contract-failure-rate)
               → suiteroom-start-error
  hall of fame, settlement
               a started room, after --room-lifetime → halloffame-selection,
               then suiteroom-terminate-complete

and through the API (--api) it sends --rate calls a second, as a crowd of
members would: sign-ups, new rooms, join requests, leaves and starts, so the
whole saga runs end to end. It runs until --duration passes or Ctrl-C, then
prints what it did (--output json for scripts). Without --brokers it uses a
local ksuite up.`,
		Example: `  ksuite up &            # the cluster and the services
  ksuite demo            # a gentle 5 calls a second until Ctrl-C
  ksuite demo --rate 200/s --duration 1m --output json
  ksuite demo --players-only --refund-failure-rate 0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := parseRate(rate)
			if err != nil {
				return err
			}
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: use text or json", output)
			}
			for _, share := range []struct {
				flag string
				v    float64
			}{{"--refund-failure-rate", cfg.RefundFailureRate}, {"--contract-failure-rate", cfg.ContractFailureRate}} {
				if share.v < 0 || share.v > 1 {
					return fmt.Errorf("%s %g: give a share from 0 to 1, e.g. 0.2", share.flag, share.v)
				}
			}
			kcfg, err := a.servicesKafka(cmd)
			if err != nil {
				return err
			}
			if cfg.ClientOpts, err = kcfg.ClientOpts(); err != nil {
				return err
			}
			cl, err := kcfg.Connect(cmd.Context())
			if err != nil {
				return err
			}
			cl.Close()
			cfg.Rate, cfg.Logger = r, a.log
			d, err := demo.New(cfg)
			if err != nil {
				return err
			}
			if err := d.Run(cmd.Context()); err != nil {
				return err
			}
			return writeStats(a.io.Out, d.Stats(), output)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.API, "api", "http://127.0.0.1:9010", "base URL of the services' API")
	f.StringVar(&cfg.TopicPrefix, "topic-prefix", "", "the services' --topic-prefix")
	f.StringVar(&rate, "rate", "5/s", "API calls per second (N, N/s, N/m)")
	f.DurationVar(&cfg.Duration, "duration", 0, "stop after this long (default: until Ctrl-C)")
	f.BoolVar(&cfg.PlayersOnly, "players-only", false, "play the other services but send no API traffic")
	f.Float64Var(&cfg.RefundFailureRate, "refund-failure-rate", 0.2, "share of refunds that fail, 0 to 1")
	f.Float64Var(&cfg.ContractFailureRate, "contract-failure-rate", 0.2, "share of contract creations that fail, 0 to 1")
	f.DurationVar(&cfg.RoomLifetime, "room-lifetime", 10*time.Second, "how long a started room runs before it is honoured and terminated")
	f.StringVarP(&output, "output", "o", "text", "summary format: text or json")
	return cmd
}

// parseRate reads "200", "200/s" or "600/m" as calls per second.
func parseRate(s string) (float64, error) {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.ParseFloat(num, 64)
	per := map[string]float64{"": 1, "s": 1, "m": 60, "min": 60, "h": 3600}[unit]
	if err != nil || n <= 0 || per == 0 {
		return 0, fmt.Errorf("--rate %q: give calls per second, e.g. 50/s or 600/m", s)
	}
	return n / per, nil
}

// writeStats prints the run's summary.
func writeStats(w interface{ Write([]byte) (int, error) }, s demo.Stats, output string) error {
	if output == "json" {
		return json.NewEncoder(w).Encode(s)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range []struct {
		name string
		n    int64
	}{
		{"signups", s.Signups}, {"rooms", s.Rooms}, {"join requests", s.JoinRequests}, {"leaves", s.Leaves},
		{"starts", s.Starts}, {"refused (4xx)", s.Refused}, {"API errors", s.Errors},
		{"payments", s.Payments}, {"refunds", s.Refunds}, {"refund failures", s.RefundFailures},
		{"contracts", s.Contracts}, {"contract failures", s.ContractFailures}, {"honours", s.Honours}, {"terminations", s.Terminations},
	} {
		fmt.Fprintf(tw, "%s\t%d\n", row.name, row.n)
	}
	return tw.Flush()
}
