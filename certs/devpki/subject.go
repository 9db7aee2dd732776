package devpki

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chungthuc/chungthuc"
	"golang.org/x/text/unicode/norm"
)

// Attribute types of the subjects this package writes (X.520).
var (
	oidCommonName   = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSerialNumber = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidCountry      = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidOrganization = asn1.ObjectIdentifier{2, 5, 4, 10}
	// OIDTitle is the X.520 title attribute (2.5.4.12) that carries an officer's title.
	OIDTitle = asn1.ObjectIdentifier{2, 5, 4, 12}
)

// maxNameRunes is the X.520 upper bound of commonName, organizationName and title.
const maxNameRunes = 64

// nameAttr is one attribute of a distinguished name.
type nameAttr struct {
	oid       asn1.ObjectIdentifier
	value     string
	printable bool // PrintableString (countryName, serialNumber) instead of UTF8String
}

// marshalName encodes a distinguished name with one attribute per RDN, in order. Every
// DirectoryString is written as UTF8String (RFC 5280 4.1.2.6), never left to
// encoding/asn1, which would pick PrintableString for ASCII-only values.
func marshalName(attrs ...nameAttr) ([]byte, error) {
	var rdns pkix.RDNSequence
	for _, a := range attrs {
		tag := asn1.TagUTF8String
		if a.printable {
			tag = asn1.TagPrintableString
		}
		rdns = append(rdns, pkix.RelativeDistinguishedNameSET{{
			Type:  a.oid,
			Value: asn1.RawValue{Class: asn1.ClassUniversal, Tag: tag, Bytes: []byte(a.value)},
		}})
	}
	return asn1.Marshal(rdns)
}

// cleanName checks a person's, unit's or title's text for a certificate and returns it
// in NFC. field names it in the EINVALID message.
func cleanName(field, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", chungthuc.Errorf(chungthuc.EINVALID, "%s is not valid UTF-8", field)
	}
	s = norm.NFC.String(s)
	if strings.TrimSpace(s) == "" {
		return "", chungthuc.Errorf(chungthuc.EINVALID, "%s is empty", field)
	}
	if s != strings.TrimSpace(s) {
		return "", chungthuc.Errorf(chungthuc.EINVALID, "%s %q starts or ends with a space", field, s)
	}
	if n := utf8.RuneCountInString(s); n > maxNameRunes {
		return "", chungthuc.Errorf(chungthuc.EINVALID, "%s is %d characters long; a certificate allows %d", field, n, maxNameRunes)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return "", chungthuc.Errorf(chungthuc.EINVALID, "%s %q contains a control character", field, s)
		}
	}
	return s, nil
}
