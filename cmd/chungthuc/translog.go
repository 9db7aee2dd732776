package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/translog"
)

// logKeyFile is where the development log key lives, next to the development PKI.
const logKeyFile = "log.key"

// loadLogKey returns the log's signing key: CHUNGTHUC_LOG_KEY(_FILE) when set; else, when
// the development PKI signs, the development log key in DataDir/pki (made on first use,
// 0600, named after CHUNGTHUC_BASE_URL); else EINVALID — production keys need a log key
// that is just as deliberate.
func loadLogKey(cfg *Config, devUse bool, logger *slog.Logger) (*translog.Key, error) {
	origin := translog.Origin(cfg.BaseURL)
	if cfg.LogKey != "" {
		k, err := translog.ParseKey(cfg.LogKey)
		if err != nil {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "CHUNGTHUC_LOG_KEY: %s", chungthuc.ErrorMessage(err))
		}
		if k.Origin() != origin && logger != nil {
			logger.Warn("the log key's name is not the origin CHUNGTHUC_BASE_URL gives; checkpoints keep the key's name", "key", k.Origin(), "base_url_origin", origin)
		}
		return k, nil
	}
	if !devUse {
		return nil, chungthuc.Errorf(chungthuc.EINVALID,
			"CHUNGTHUC_KEYS_FILE configures production keys but no key signs the public log: create one with `chungthuc log keygen --origin %s --out FILE`, keep it outside the database and its backups, and set CHUNGTHUC_LOG_KEY_FILE=FILE", origin)
	}
	dir := filepath.Join(cfg.DataDir, "pki")
	path := filepath.Join(dir, logKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := translog.ParseKey(string(b))
		if err != nil {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s: %s", path, chungthuc.ErrorMessage(err))
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "cannot read the log key %s", path)
	}
	skey, k, err := translog.GenerateKey(origin)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process made it meanwhile
		return loadLogKey(cfg, devUse, logger)
	} else if err != nil {
		return nil, err
	}
	_, err = f.WriteString(skey + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return k, os.WriteFile(filepath.Join(dir, "log.pub"), []byte(k.Public+"\n"), 0o644)
}

// openLog attaches the public log: it reads the store's newest checkpoint and compares the
// register with it (a register behind the store is blocked, with the reason logged and
// kept for /readyz), installs the register's hooks and publishes leaves a crash left without
// a checkpoint. An unreachable store does not stop start-up: certification waits for it.
func (a *app) openLog(ctx context.Context) error {
	key, err := loadLogKey(a.cfg, a.pki != nil, a.log)
	if err != nil {
		return err
	}
	a.tlog, err = translog.New(translog.Options{Register: a.reg, Store: a.objects, Key: key, Logger: a.log})
	if err != nil {
		return err
	}
	a.reg.SetLogHooks(a.tlog.Hooks())
	if err := a.tlog.Refresh(ctx); err != nil {
		a.log.Error("transparency log: cannot read the checkpoints in the object store; certification waits for it", "err", err)
		return nil
	}
	if err := a.tlog.Check(ctx); err != nil {
		return nil // logged by Check; kept as the block
	}
	n, err := a.reg.LogSize(ctx)
	if err != nil {
		return err
	}
	if cp, _, ok := a.tlog.Newest(); !ok || cp.Size < n {
		if err := a.tlog.Publish(ctx); err != nil {
			a.log.Error("transparency log: cannot store a checkpoint for leaves committed earlier", "err", err)
		}
	}
	return nil
}

func cmdLog(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) == 0 {
		return usagef("log: expected 'log verify', 'log key', 'log checkpoint' or 'log keygen'")
	}
	switch args[0] {
	case "keygen":
		return cmdLogKeygen(cfg, args[1:], stdout)
	case "verify", "key", "checkpoint":
	default:
		return usagef("log: unknown subcommand %q", args[0])
	}
	fs := newFlags("log " + args[0])
	var older *string
	if args[0] == "verify" {
		older = fs.String("checkpoint", "", "an older signed checkpoint (a file) the newest must be consistent with")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("log %s takes no arguments", args[0])
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	switch args[0] {
	case "key":
		_, err := fmt.Fprintln(stdout, a.tlog.Key().Public)
		return err
	case "checkpoint":
		if err := a.tlog.Refresh(ctx); err != nil {
			return err
		}
		_, signed, ok := a.tlog.Newest()
		if !ok {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "the object store holds no checkpoint yet")
		}
		_, err := stdout.Write(signed)
		return err
	}
	var old []byte
	if *older != "" {
		if old, err = os.ReadFile(*older); err != nil {
			return chungthuc.Errorf(chungthuc.EINVALID, "cannot read %s: %v", *older, errorsUnwrapPath(err))
		}
	}
	rep, err := translog.VerifyRegister(ctx, a.tlog, a.reg, old)
	if err != nil {
		return err
	}
	if err := printJSON(stdout, rep); err != nil {
		return err
	}
	if !rep.Clean {
		return &exitError{1}
	}
	return nil
}

// cmdLogKeygen makes a new log key: the private key goes to --out (created 0600, never
// overwritten), the public verifier key to stdout.
func cmdLogKeygen(cfg *Config, args []string, stdout io.Writer) error {
	fs := newFlags("log keygen")
	origin := fs.String("origin", translog.Origin(cfg.BaseURL), "the log's name (origin line of its checkpoints)")
	out := fs.String("out", "", "file for the private key (created with mode 0600)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return usagef("log keygen: --out FILE is required")
	}
	skey, k, err := translog.GenerateKey(*origin)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "cannot create %s (an existing key is never overwritten): %v", *out, errorsUnwrapPath(err))
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		_ = f.Close() // the write error is the one to report
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, k.Public)
	return err
}
