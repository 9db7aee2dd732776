package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/chungthuc/chungthuc"
)

func cmdServe(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	return chungthuc.Errorf(chungthuc.EUNSUPPORTED, "serve is not built yet")
}
