package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/notify"
)

// workerOwner names this process for outbox leases: host, pid and a random part.
func workerOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

// webhookWorker is serve's delivery worker for the register's webhook outbox.
func (a *app) webhookWorker(logger *slog.Logger) *notify.Worker {
	return &notify.Worker{
		Outbox:        a.reg,
		Owner:         workerOwner(),
		Log:           logger,
		Lease:         a.cfg.WebhookLease,
		Timeout:       min(10*time.Second, a.cfg.WebhookLease/2),
		Poll:          min(2*time.Second, a.cfg.WebhookLease/2),
		AllowLoopback: a.cfg.WebhookAllowLoopback,
	}
}

// cmdWebhook manages the receivers of register events (system administrator):
//
//	webhook add --url URL [--secret S]   prints the endpoint id and its secret (generated
//	                                     when not given; shown this once)
//	webhook list                         id, URL, created (no secrets)
//	webhook remove --id N                stops deliveries to it
func cmdWebhook(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) == 0 {
		return usagef("webhook: expected add, list or remove")
	}
	fs := newFlags("webhook " + args[0])
	url := fs.String("url", "", "receiver URL (https://…)")
	secret := fs.String("secret", "", "signing secret, at least 16 bytes (generated when empty)")
	id := fs.Int64("id", 0, "endpoint id")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "add":
		if err := notify.ValidEndpointURL(*url); err != nil {
			return usagef("webhook add: %v", err)
		}
	case "remove":
		if *id <= 0 {
			return usagef("webhook remove: --id is required")
		}
	case "list":
	default:
		return usagef("webhook: unknown subcommand %q", args[0])
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	switch args[0] {
	case "add":
		s := *secret
		if s == "" {
			s = notify.NewSecret()
		}
		e := &chungthuc.WebhookEndpoint{URL: *url, Secret: []byte(s)}
		if err := a.reg.AddWebhookEndpoint(ctx, e); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%d %s\n", e.ID, s)
		return err
	case "remove":
		return a.reg.RemoveWebhookEndpoint(ctx, *id)
	}
	es, err := a.reg.WebhookEndpoints(ctx)
	if err != nil {
		return err
	}
	for _, e := range es {
		if _, err := fmt.Fprintf(stdout, "%d\t%s\t%s\n", e.ID, e.URL, e.CreatedAt.Format("2006-01-02 15:04:05Z")); err != nil {
			return err
		}
	}
	return nil
}
