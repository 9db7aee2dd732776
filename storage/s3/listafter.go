package s3

import (
	"context"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/chungthuc/chungthuc"
)

// ListAfter calls fn, in key order, for every object whose key starts with prefix and sorts
// after the key after ("" = all), asking the server only for those (S3 ListObjectsV2
// StartAfter). SHA256 is filled as by List. An error from fn stops the listing and is
// returned as is. Errors: EINVALID for a bad prefix, EUNAVAILABLE.
func (s *Store) ListAfter(ctx context.Context, prefix, after string, fn func(chungthuc.ObjectInfo) error) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithMetadata: true, StartAfter: after}
	for obj := range s.client.ListObjects(lctx, s.bucket, opts) {
		if obj.Err != nil {
			return s.fail("list", prefix, obj.Err)
		}
		if strings.HasSuffix(obj.Key, "/") || obj.Key <= after {
			continue
		}
		sum := metaHash(obj.UserMetadataStripped)
		if sum == "" {
			sum = metaHash(obj.UserMetadata)
		}
		if err := fn(chungthuc.ObjectInfo{Key: obj.Key, Size: obj.Size, SHA256: sum, ModTime: obj.LastModified}); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return s.fail("list", prefix, err)
	}
	return nil
}
