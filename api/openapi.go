package api

import (
	"net/http"
)

// openAPIDoc is the OpenAPI 3 description of the JSON API. A test walks the router and
// checks that every /api/ route is described here and every path here is routed.
func openAPIDoc(baseURL string) map[string]any {
	errResp := map[string]any{"description": "error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	jsonOK := func(desc, schema string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + schema}}}}
	}
	idParam := map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "integer"}}
	bearer := []any{map[string]any{"bearer": []any{}}}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "chungthuc API", "version": "1",
			"description": "Electronic copy certification (chứng thực bản sao điện tử): certify scans, fetch and revoke copies, verify copies."},
		"servers": []any{map[string]any{"url": baseURL}},
		"paths": map[string]any{
			"/api/v1/certifications": map[string]any{"post": map[string]any{
				"summary": "Certify scans of an original", "security": bearer,
				"description": "Send an Idempotency-Key to make the request safe to retry (a lost answer, a time-out). The key is kept, per unit, with the entry the request created. " +
					"A retry with the same key and the same request (same fields, same files in the same order) gets the first outcome: 200 with the issued entry (without the access code, which is shown only once), " +
					"409 with outcome \"void\" and the void entry with its reason when the first request failed after its number was reserved, or 409 with outcome \"in_progress\" and Retry-After while it still runs. " +
					"The same key with a different request is 422. A request that failed before a number was reserved (bad scans, the service unavailable) left nothing under its key: a retry runs anew.",
				"parameters": []any{map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
					"schema":      map[string]any{"type": "string", "maxLength": 200, "pattern": "^[!-~]+$"},
					"description": "1 to 200 printable ASCII characters, unique per request (e.g. a UUID or the one-stop-shop's file number)"}},
				"requestBody": map[string]any{"required": true, "content": map[string]any{"multipart/form-data": map[string]any{"schema": map[string]any{
					"type": "object", "required": []any{"file", "document", "requester"},
					"description": "Every printed value is one line of text, NFC, without control, bidi-override or zero-width characters, and bounded; any other is refused with 400 before a number is used.",
					"properties": map[string]any{
						"file":      map[string]any{"type": "array", "items": map[string]any{"type": "string", "format": "binary"}, "description": "JPEG, PNG or PDF scans, in order (repeat the field)"},
						"document":  map[string]any{"type": "string", "maxLength": 200, "description": "the name of the original, e.g. Giấy khai sinh"},
						"title":     map[string]any{"type": "string", "deprecated": true, "description": "deprecated alias of document (kept for one release)"},
						"issuer":    map[string]any{"type": "string", "maxLength": 120},
						"requester": map[string]any{"type": "string", "maxLength": 120, "description": "the citizen's full name"},
						"copies":    map[string]any{"type": "integer", "minimum": 1, "maximum": 100, "default": 1, "description": "copies made from the original at once under one number; the fee is per copy"},
						"officer_title": map[string]any{"type": "string", "maxLength": 80,
							"description": "one of the titles on the officer's record (set by an administrator); default: the record's title. Any other is 400"},
						"signing": map[string]any{"type": "string", "enum": []any{"server", "external"},
							"description": "who holds the keys: server (the service's keys, one step: 201) or external (the officer's own device, then the records clerk's seal: 202 with to_sign); default: the unit's setting (chungthuc unit cert --default external)"},
						"confirm_low_resolution": map[string]any{"type": "boolean", "default": false,
							"description": "the officer confirms a scan-quality warning (effective resolution below the recommended level); refusals cannot be confirmed"},
					}}}}},
				"responses": map[string]any{"201": jsonOK("certified", "NewCertification"),
					"202": jsonOK("signing external: the number is reserved and the entry waits for the officer's signature over to_sign (POST …/signature before expires_at); a retry with the same Idempotency-Key while it waits gets the same 202 (Idempotent-Replayed: true)", "Awaiting"),
					"200": jsonOK("a retry (same Idempotency-Key, same request): the entry the first request issued, without the access code; header Idempotent-Replayed: true", "Certification"),
					"409": jsonOK("a retry whose first request failed (outcome void: the entry and its void_reason) or still runs (outcome in_progress)", "PriorOutcome"),
					"422": errResp, "400": errResp, "401": errResp, "403": errResp, "413": errResp, "415": errResp, "503": errResp},
			}},
			"/api/v1/certifications/{id}": map[string]any{"get": map[string]any{
				"summary": "An entry of the caller's unit", "security": bearer, "parameters": []any{idParam},
				"responses": map[string]any{"200": jsonOK("the entry", "Certification"), "401": errResp, "404": errResp}}},
			"/api/v1/certifications/{id}/pdf": map[string]any{"get": map[string]any{
				"summary": "The certified PDF", "security": bearer, "parameters": []any{idParam},
				"description": "The version stored when the copy was issued, checked against the register's SHA-256 before it is sent: a missing or damaged stored copy answers 500 with stored_copy missing or damaged.",
				"responses":   map[string]any{"200": map[string]any{"description": "PDF", "content": map[string]any{"application/pdf": map[string]any{}}}, "401": errResp, "404": errResp, "500": errResp, "503": errResp}}},
			"/api/v1/certifications/{id}/revoke": map[string]any{"post": map[string]any{
				"summary": "Revoke a copy", "security": bearer, "parameters": []any{idParam},
				"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
					"type": "object", "required": []any{"reason"}, "properties": map[string]any{"reason": map[string]any{"type": "string"}}}}}},
				"responses": map[string]any{"200": jsonOK("revoked", "Certification"), "400": errResp, "404": errResp, "409": errResp}}},
			"/api/v1/certifications/{id}/access-code": map[string]any{"post": map[string]any{
				"summary": "Reissue the access code of an issued copy: a new code, shown once; every code before it stops working (audited)", "security": bearer, "parameters": []any{idParam},
				"responses": map[string]any{"200": jsonOK("the new code", "NewCertification"), "403": errResp, "404": errResp, "409": errResp}}},
			"/api/v1/certifications/{id}/to-sign": map[string]any{"get": map[string]any{
				"summary": "What an entry signed outside the service waits for (read it again after a lost answer)", "security": bearer, "parameters": []any{idParam},
				"responses": map[string]any{"200": jsonOK("the awaited step and its to_sign", "Awaiting"), "401": errResp, "404": errResp,
					"409": map[string]any{"description": "the entry waits for nothing (reason not_waiting), or its wait expired and it was voided (reason expired)", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}}}},
			"/api/v1/certifications/{id}/signature": map[string]any{"post": map[string]any{
				"summary": "Complete the awaited step with a signature value made outside the service", "security": bearer, "parameters": []any{idParam},
				"description": "The officer's step only by the officer of the entry (their token), the seal only by a records clerk's token (or the unit administrator) of the same unit. " +
					"The value is the signature over to_sign.digest (RSASSA-PKCS1-v1_5 with the SHA-256 DigestInfo for RSA, ECDSA DER or raw r||s for EC), as `openssl pkeyutl -sign -pkeyopt digest:sha256` or CSC signatures/signHash make it. " +
					"It is checked (the registered certificate, valid now, not revoked; the value verifies over the digest) before anything is written: a refusal leaves the entry waiting. " +
					"Refusals carry error.reason: signature_invalid (400), certificate_refused (403), role_not_allowed (403), wrong_step or not_waiting (409), expired (409; the entry is void, its number kept).",
				"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
					"type": "object", "required": []any{"signature"}, "additionalProperties": false, "properties": map[string]any{
						"signature": map[string]any{"type": "string", "format": "byte", "description": "the signature value, base64"},
						"certificate_chain": map[string]any{"type": "array", "items": map[string]any{"type": "string"},
							"description": "optional: the signer's chain, leaf first, each base64 DER or PEM; the leaf must be the registered certificate"}}}}}},
				"responses": map[string]any{"202": jsonOK("the officer's signature is in; the entry waits for the seal (step seal, new to_sign)", "Awaiting"),
					"201": jsonOK("sealed, time-stamped and issued", "NewCertification"),
					"400": errResp, "401": errResp, "403": errResp, "404": errResp, "409": errResp, "503": errResp}}},
			"/api/v1/verify": map[string]any{"post": map[string]any{
				"summary": "Verify a PDF (signatures and register)",
				"requestBody": map[string]any{"required": true, "content": map[string]any{
					"application/pdf":     map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}},
					"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object", "properties": map[string]any{"file": map[string]any{"type": "string", "format": "binary"}}}}}},
				"responses": map[string]any{"200": map[string]any{"description": "the verification report (verify/REPORT.md)", "content": map[string]any{"application/json": map[string]any{}}}, "413": errResp, "415": errResp, "429": errResp}}},
			"/api/v1/verify/{token}": map[string]any{"get": map[string]any{
				"summary":    "Status of a copy by its verification token",
				"parameters": []any{map[string]any{"name": "token", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}},
				"responses":  map[string]any{"200": jsonOK("public facts", "PublicStatus"), "404": errResp, "429": errResp}}},
			"/api/v1/verify/sha256/{sum}": map[string]any{"get": map[string]any{
				"summary":    "Was a file with this SHA-256 certified?",
				"parameters": []any{map[string]any{"name": "sum", "in": "path", "required": true, "schema": map[string]any{"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}}},
				"responses":  map[string]any{"200": jsonOK("public facts", "PublicStatus"), "404": map[string]any{"description": "not registered"}, "400": errResp}}},
			"/api/v1/log/proof/{token}": map[string]any{"get": map[string]any{
				"summary":     "The public-log leaves of a copy, with inclusion proofs to the newest signed checkpoint",
				"description": "Check with the log's public key (GET /log/key, signed-note verifier key): the checkpoint's signature (C2SP tlog-checkpoint), then each included leaf's RFC 6962 audit path from SHA-256(0x00 ‖ data) to the checkpoint's root. A leaf holds the SHA-256 of the token, never the token.",
				"parameters":  []any{map[string]any{"name": "token", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}},
				"responses":   map[string]any{"200": jsonOK("leaves and proofs", "LogProof"), "404": errResp, "429": errResp}}},
			"/api/v1/log/consistency": map[string]any{"get": map[string]any{
				"summary": "Proof that the log of size new extends the log of size old (RFC 6962 consistency proof)",
				"parameters": []any{
					map[string]any{"name": "old", "in": "query", "required": true, "schema": map[string]any{"type": "integer", "minimum": 1}},
					map[string]any{"name": "new", "in": "query", "required": true, "schema": map[string]any{"type": "integer", "minimum": 1}}},
				"responses": map[string]any{"200": jsonOK("the proof", "LogConsistency"), "400": errResp, "404": errResp, "429": errResp}}},
			"/api/openapi.json": map[string]any{"get": map[string]any{"summary": "This document",
				"responses": map[string]any{"200": map[string]any{"description": "OpenAPI 3 document"}}}},
		},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "a token from `chungthuc token create`"}},
			"schemas": map[string]any{
				"Error": map[string]any{"type": "object", "properties": map[string]any{"error": map[string]any{"type": "object", "properties": map[string]any{
					"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"},
					"reason": map[string]any{"type": "string", "description": "refusals of an external signature step: signature_invalid, certificate_refused, role_not_allowed, wrong_step, not_waiting, expired, no_registered_certificate"}}},
					"request_id": map[string]any{"type": "string"}}},
				"Awaiting": map[string]any{"allOf": []any{map[string]any{"$ref": "#/components/schemas/Certification"}, map[string]any{"type": "object", "properties": map[string]any{
					"step":          map[string]any{"type": "string", "enum": []any{"officer_signature", "seal"}},
					"expires_at":    map[string]any{"type": "string", "format": "date-time", "description": "after it the entry is voided with a reason (its number stays used)"},
					"signature_url": map[string]any{"type": "string"},
					"to_sign": map[string]any{"type": "object", "properties": map[string]any{
						"digest":                  map[string]any{"type": "string", "format": "byte", "description": "SHA-256 of signed_attributes: what the key signs (CSC signHash hash)"},
						"digest_algorithm":        map[string]any{"type": "string", "enum": []any{"SHA-256"}},
						"digest_algorithm_oid":    map[string]any{"type": "string", "description": "2.16.840.1.101.3.4.2.1 (CSC hashAlgo)"},
						"signature_algorithm":     map[string]any{"type": "string", "enum": []any{"sha256WithRSAEncryption", "ecdsa-with-SHA256"}},
						"signature_algorithm_oid": map[string]any{"type": "string", "description": "CSC signAlgo"},
						"signed_attributes":       map[string]any{"type": "string", "format": "byte", "description": "DER CMS signed attributes, for devices that sign data (hash them with SHA-256)"},
						"certificate":             map[string]any{"type": "string", "format": "byte", "description": "DER of the registered certificate expected to sign"}}}}}}},
				"Certification": map[string]any{"type": "object", "properties": map[string]any{
					"id": map[string]any{"type": "integer"}, "number": map[string]any{"type": "integer"}, "book": map[string]any{"type": "string"},
					"year": map[string]any{"type": "integer"}, "status": map[string]any{"type": "string", "enum": []any{"pending", "issued", "void", "revoked"}},
					"document": map[string]any{"type": "string"}, "title": map[string]any{"type": "string", "deprecated": true, "description": "alias of document"}, "copies": map[string]any{"type": "integer"}, "issuer": map[string]any{"type": "string"}, "requester": map[string]any{"type": "string"},
					"officer_name": map[string]any{"type": "string"}, "officer_title": map[string]any{"type": "string"},
					"pages": map[string]any{"type": "integer"}, "fee_vnd": map[string]any{"type": "integer"}, "sha256": map[string]any{"type": "string"},
					"verify_url": map[string]any{"type": "string"}, "certified_at": map[string]any{"type": "string", "format": "date-time"},
					"revoke_reason": map[string]any{"type": "string"}, "revoked_at": map[string]any{"type": "string", "format": "date-time"},
					"void_reason": map[string]any{"type": "string"}}},
				"PriorOutcome": map[string]any{"type": "object", "properties": map[string]any{
					"error":         map[string]any{"$ref": "#/components/schemas/Error/properties/error"},
					"outcome":       map[string]any{"type": "string", "enum": []any{"void", "in_progress"}},
					"certification": map[string]any{"$ref": "#/components/schemas/Certification"},
					"request_id":    map[string]any{"type": "string"}}},
				"NewCertification": map[string]any{"allOf": []any{map[string]any{"$ref": "#/components/schemas/Certification"}, map[string]any{"type": "object", "properties": map[string]any{
					"access_code": map[string]any{"type": "string", "description": "the citizen's download code; shown only once"},
					"dropped":     map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}}}},
				"PublicStatus": map[string]any{"type": "object", "properties": map[string]any{
					"status": map[string]any{"type": "string", "enum": []any{"valid", "revoked"}}, "unit": map[string]any{"type": "string"},
					"number": map[string]any{"type": "integer"}, "book": map[string]any{"type": "string"}, "certified_at": map[string]any{"type": "string"},
					"officer_title": map[string]any{"type": "string"}, "officer_name": map[string]any{"type": "string"}, "pages": map[string]any{"type": "integer"},
					"sha256": map[string]any{"type": "string"}, "revoke_reason": map[string]any{"type": "string"}, "revoked_at": map[string]any{"type": "string"},
					"log": map[string]any{"type": "object", "description": "where the copy is in the public log (absent when it has no leaf)", "properties": map[string]any{
						"included": map[string]any{"type": "boolean", "description": "false while the leaf awaits the next checkpoint"},
						"index":    map[string]any{"type": "integer"}, "checkpoint_size": map[string]any{"type": "integer"},
						"checkpoint_time": map[string]any{"type": "string", "format": "date-time"}}},
					"stored_copy": map[string]any{"type": "string", "enum": []any{"ok", "missing", "damaged", "overwritten", "deleted"},
						"description": "the certifying office's stored copy: ok, or what a check found — missing or damaged (it cannot be downloaded), overwritten or deleted in the store (the recorded version is intact and still served). The status stays valid or revoked: it is about the certification."},
					"stored_copy_message_vi": map[string]any{"type": "string"}, "stored_copy_message_en": map[string]any{"type": "string"},
					"message_vi": map[string]any{"type": "string"}, "message_en": map[string]any{"type": "string"}}},
				"LogProof": map[string]any{"type": "object", "properties": map[string]any{
					"checkpoint":      map[string]any{"type": "string", "description": "the newest signed checkpoint (as served by GET /log/checkpoint)"},
					"tree_size":       map[string]any{"type": "integer"},
					"checkpoint_time": map[string]any{"type": "string", "description": "the time signed into the checkpoint (UTC)"},
					"leaves": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
						"index":           map[string]any{"type": "integer"},
						"data":            map[string]any{"type": "string", "format": "byte", "description": "the leaf exactly as hashed (canonical JSON, base64)"},
						"leaf":            map[string]any{"type": "object", "description": "data decoded: event, unit, year, number, book, times, token_sha256, copy_sha256, officer, pages, fee, reason, private commitments, audit anchor"},
						"included":        map[string]any{"type": "boolean"},
						"inclusion_proof": map[string]any{"type": "array", "items": map[string]any{"type": "string", "format": "byte"}}}}}}},
				"LogConsistency": map[string]any{"type": "object", "properties": map[string]any{
					"old": map[string]any{"type": "integer"}, "new": map[string]any{"type": "integer"},
					"consistency_proof": map[string]any{"type": "array", "items": map[string]any{"type": "string", "format": "byte"}}}},
			},
		},
	}
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, openAPIDoc(s.BaseURL))
}
