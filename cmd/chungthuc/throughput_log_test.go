package main

import (
	"context"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/translog"
)

// logCheckpoints logs how many checkpoints the public log stored for how many leaves (the
// effect of group commit).
func logCheckpoints(t *testing.T, env map[string]string) {
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	n := 0
	a.objects.List(context.Background(), translog.CheckpointPrefix, func(chungthuc.ObjectInfo) error { n++; return nil })
	size, _ := a.reg.LogSize(context.Background())
	t.Logf("LOG %d leaves in %d checkpoints", size, n)
}
