#!/bin/sh
# softhsm.sh — create a throw-away SoftHSM2 token with an EC P-256 and an RSA-3072 key pair
# for development and manual tests of PKCS#11 signing.
#
# Usage: eval "$(scripts/softhsm.sh [DIR])"
#
# DIR (default: a new directory under /tmp) receives softhsm2.conf and the token files;
# nothing is written elsewhere. The script prints shell exports:
#   SOFTHSM2_CONF          the configuration (its own tokendir inside DIR)
#   PKCS11_MODULE          path of libsofthsm2.so
#   PKCS11_TOKEN_LABEL     the token ("chungthuc-dev")
#   PKCS11_PIN             the user PIN (a development PIN; real PINs come from *_FILE)
#   PKCS11_EC_KEY_LABEL    label of the EC P-256 key  (CKA_ID 01)
#   PKCS11_RSA_KEY_LABEL   label of the RSA-3072 key  (CKA_ID 02)
# Needs: softhsm2 (softhsm2-util, libsofthsm2.so) and opensc (pkcs11-tool).
set -eu

dir=${1:-$(mktemp -d /tmp/chungthuc-softhsm.XXXXXX)}
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)

module=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
	/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
	if [ -f "$m" ]; then module=$m; break; fi
done
if [ -z "$module" ]; then
	echo "softhsm.sh: libsofthsm2.so not found; apt-get install -y softhsm2" >&2
	exit 1
fi
command -v pkcs11-tool >/dev/null || { echo "softhsm.sh: pkcs11-tool not found; apt-get install -y opensc" >&2; exit 1; }

label=chungthuc-dev
pin=${PKCS11_PIN:-123456}
so_pin=${PKCS11_SO_PIN:-12345678}

cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$dir/softhsm2.conf"

softhsm2-util --init-token --free --label "$label" --pin "$pin" --so-pin "$so_pin" >/dev/null
pkcs11-tool --module "$module" --token-label "$label" --login --pin "$pin" \
	--keypairgen --key-type EC:prime256v1 --label officer-ec --id 01 >/dev/null
pkcs11-tool --module "$module" --token-label "$label" --login --pin "$pin" \
	--keypairgen --key-type rsa:3072 --label seal-rsa --id 02 >/dev/null

cat <<OUT
export SOFTHSM2_CONF='$dir/softhsm2.conf'
export PKCS11_MODULE='$module'
export PKCS11_TOKEN_LABEL='$label'
export PKCS11_PIN='$pin'
export PKCS11_EC_KEY_LABEL='officer-ec'
export PKCS11_RSA_KEY_LABEL='seal-rsa'
OUT
