package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// productionEnv makes a fresh PostgreSQL database and names a fresh bucket on the test MinIO,
// and returns the environment that points chungthuc at them. The database is dropped when the
// test ends; the bucket lives in the throw-away MinIO of the test run.
func productionEnv(t *testing.T) map[string]string {
	t.Helper()
	admin := os.Getenv("CHUNGTHUC_TEST_DATABASE_URL")
	if admin == "" || os.Getenv("CHUNGTHUC_TEST_S3_ENDPOINT") == "" {
		// Without both the service would quietly run on local files: a test named for the
		// production backend must not measure or check another one.
		t.Skip("PostgreSQL and MinIO not both configured (CHUNGTHUC_TEST_DATABASE_URL, CHUNGTHUC_TEST_S3_ENDPOINT)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Skipf("PostgreSQL not reachable at %s: %v", admin, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "chungthuc_e2e_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	endpoint := os.Getenv("CHUNGTHUC_TEST_S3_ENDPOINT")
	useSSL := "false"
	if strings.HasPrefix(endpoint, "https://") {
		useSSL = "true"
	}
	endpoint = strings.TrimPrefix(strings.TrimPrefix(endpoint, "http://"), "https://")
	return map[string]string{
		"CHUNGTHUC_DATABASE_URL":       u.String(),
		"CHUNGTHUC_S3_ENDPOINT":        endpoint,
		"CHUNGTHUC_S3_BUCKET":          "chungthuc-e2e-" + hex.EncodeToString(b),
		"CHUNGTHUC_S3_ACCESS_KEY":      os.Getenv("CHUNGTHUC_TEST_S3_ACCESS_KEY"),
		"CHUNGTHUC_S3_SECRET_KEY":      os.Getenv("CHUNGTHUC_TEST_S3_SECRET_KEY"),
		"CHUNGTHUC_S3_USE_SSL":         useSSL,
		"CHUNGTHUC_S3_RETENTION_YEARS": "1",
	}
}
