package certs

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"hash"

	"github.com/chungthuc/chungthuc"
)

// Password-protected PKCS#8 (RFC 5958 EncryptedPrivateKeyInfo with PBES2 from RFC 8018),
// the format `openssl pkcs8 -topk8` and `openssl genpkey -aes256` write. The standard
// library reads only unencrypted PKCS#8.

var (
	oidPBES2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1     = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC   = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	maxPBKDF2Rounds = 10_000_000 // bounds the work a hostile file can demand
)

type encryptedPrivateKeyInfo struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

type pbes2Params struct {
	KDF pkix.AlgorithmIdentifier
	Enc pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt      []byte
	Iter      int
	KeyLength int                      `asn1:"optional"`
	PRF       pkix.AlgorithmIdentifier `asn1:"optional"`
}

// decryptPKCS8 returns the DER PKCS#8 PrivateKeyInfo inside an EncryptedPrivateKeyInfo.
// Errors: EINVALID (malformed), EUNSUPPORTED (other schemes), EUNAUTHORIZED (wrong
// password detected by the padding check).
func decryptPKCS8(der []byte, password string) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "malformed encrypted private key")
	}
	if !info.Algo.Algorithm.Equal(oidPBES2) {
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED,
			"private key encryption %v is not supported (use PBES2, e.g. `openssl pkcs8 -topk8 -v2 aes-256-cbc`)", info.Algo.Algorithm)
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &params); err != nil || len(rest) > 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "malformed PBES2 parameters")
	}
	if !params.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "key derivation %v is not supported (use PBKDF2)", params.KDF.Algorithm)
	}
	var kdf pbkdf2Params
	if rest, err := asn1.Unmarshal(params.KDF.Parameters.FullBytes, &kdf); err != nil || len(rest) > 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "malformed PBKDF2 parameters")
	}
	if kdf.Iter < 1 || kdf.Iter > maxPBKDF2Rounds {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "PBKDF2 iteration count %d out of range", kdf.Iter)
	}
	var newHash func() hash.Hash
	switch prf := kdf.PRF.Algorithm; {
	case len(prf) == 0 || prf.Equal(oidHMACSHA1):
		newHash = sha1.New
	case prf.Equal(oidHMACSHA224):
		newHash = sha256.New224
	case prf.Equal(oidHMACSHA256):
		newHash = sha256.New
	case prf.Equal(oidHMACSHA384):
		newHash = sha512.New384
	case prf.Equal(oidHMACSHA512):
		newHash = sha512.New
	default:
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "PBKDF2 PRF %v is not supported", prf)
	}
	var (
		keyLen   int
		newBlock func([]byte) (cipher.Block, error)
	)
	switch enc := params.Enc.Algorithm; {
	case enc.Equal(oidAES128CBC):
		keyLen, newBlock = 16, aes.NewCipher
	case enc.Equal(oidAES192CBC):
		keyLen, newBlock = 24, aes.NewCipher
	case enc.Equal(oidAES256CBC):
		keyLen, newBlock = 32, aes.NewCipher
	case enc.Equal(oidDESEDE3CBC):
		keyLen, newBlock = 24, des.NewTripleDESCipher
	default:
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "key encryption cipher %v is not supported", enc)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "PBKDF2 key length %d does not fit the cipher", kdf.KeyLength)
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(params.Enc.Parameters.FullBytes, &iv); err != nil || len(rest) > 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "malformed cipher parameters")
	}
	key, err := pbkdf2.Key(newHash, password, kdf.Salt, kdf.Iter, keyLen)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "PBKDF2: %v", err)
	}
	block, err := newBlock(key)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "cipher: %v", err)
	}
	bs := block.BlockSize()
	if len(iv) != bs || len(info.Data) == 0 || len(info.Data)%bs != 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "malformed encrypted private key data")
	}
	out := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, info.Data)
	// PKCS#7 padding. The check is not constant time: the file is local configuration,
	// not an oracle an attacker can query.
	pad := int(out[len(out)-1])
	if pad == 0 || pad > bs {
		return nil, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "wrong password or corrupt private key")
	}
	for _, b := range out[len(out)-pad:] {
		if int(b) != pad {
			return nil, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "wrong password or corrupt private key")
		}
	}
	return out[:len(out)-pad], nil
}
