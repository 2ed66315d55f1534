// Package openapi holds the OpenAPI 3.1 document of the public API: the
// contract the origin serves at /api/v1/openapi.json and the integration
// tests check every request and answer against.
package openapi
