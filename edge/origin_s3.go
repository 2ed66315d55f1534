package edge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// S3Origin is an S3 bucket an edge reads with SigV4, as CloudFront's
// Origin Access Control does: the bucket can refuse anonymous reads and
// still be served.
type S3Origin struct {
	// Bucket is the bucket's name. Required.
	Bucket string
	// Region is the bucket's region, part of each signature. It defaults
	// to "us-east-1".
	Region string
	// Endpoint is the S3 base URL (MinIO, versitygw, …), addressed
	// path-style (Endpoint/Bucket/key). Empty means AWS, addressed
	// virtual-hosted (https://Bucket.s3.Region.amazonaws.com/key).
	Endpoint string
	// Prefix is put before the request path to make the key: "site"
	// serves /index.html from "site/index.html". Empty by default.
	Prefix string
	// AccessKey and SecretKey are the credentials the edge signs with.
	// Required: an edge signs with its own key, which needs only
	// s3:GetObject on the bucket (and s3:ListBucket to tell a missing
	// object, 404, from a forbidden one, 403).
	AccessKey, SecretKey string
}

// emptyPayloadHash is the SHA-256 of no bytes: every request an edge sends
// to S3 is a GET or HEAD without a body.
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// s3Signer signs an edge's requests to one bucket.
type s3Signer struct {
	signer *v4.Signer
	creds  aws.Credentials
	region string
}

// upstream is one origin of a distribution, ready to send to.
type upstream struct {
	name string
	base string   // base URL without a trailing slash (for S3: bucket and prefix included)
	url  *url.URL // base, parsed
	s3   *s3Signer
	// host, when set, is the Host to send instead of base's: a shield
	// chooses the distribution by it.
	host string
}

func newUpstream(oc Origin) (*upstream, error) {
	if oc.Name == "" {
		return nil, errors.New("an origin needs a name, which behaviours refer to it by")
	}
	u := &upstream{name: oc.Name}
	switch {
	case oc.S3 != nil && oc.URL != "":
		return nil, fmt.Errorf("origin %q has both a URL and S3: it is one or the other", oc.Name)
	case oc.S3 != nil:
		s := oc.S3
		if s.Bucket == "" || s.AccessKey == "" || s.SecretKey == "" {
			return nil, fmt.Errorf("S3 origin %q needs a bucket, an access key and a secret key", oc.Name)
		}
		region := s.Region
		if region == "" {
			region = "us-east-1"
		}
		prefix := strings.Trim(s.Prefix, "/")
		if prefix != "" {
			prefix = "/" + url.PathEscape(prefix)
			prefix = strings.ReplaceAll(prefix, "%2F", "/")
		}
		if s.Endpoint == "" {
			u.base = "https://" + s.Bucket + ".s3." + region + ".amazonaws.com" + prefix
		} else {
			u.base = strings.TrimSuffix(s.Endpoint, "/") + "/" + s.Bucket + prefix
		}
		u.s3 = &s3Signer{
			// S3 wants the path as sent, not escaped a second time.
			signer: v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }),
			creds:  aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey},
			region: region,
		}
	default:
		u.base = strings.TrimSuffix(oc.URL, "/")
	}
	p, err := url.Parse(u.base)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return nil, fmt.Errorf("origin %q: %q must be an absolute http(s) URL", oc.Name, u.base)
	}
	u.url = p
	return u, nil
}

// s3Forwarded are the request fields an S3 origin gets: what selects the
// bytes and revalidates them. Viewers' cookies, credentials and other
// fields are none of the bucket's business.
var s3Forwarded = [...]string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "User-Agent"}

// sign readies req for the bucket: only the fields above, no query (S3
// would read parameters such as ?acl as requests of their own), then
// signed with SigV4 at now.
func (s *s3Signer) sign(ctx context.Context, req *http.Request, now time.Time) error {
	kept := make(http.Header, len(s3Forwarded)+3)
	for _, k := range s3Forwarded {
		if v, ok := req.Header[k]; ok {
			kept[k] = v
		}
	}
	req.Header = kept
	req.URL.RawQuery = ""
	req.URL.ForceQuery = false
	req.Host = ""
	req.Header.Set("X-Amz-Content-Sha256", emptyPayloadHash)
	if err := s.signer.SignHTTP(ctx, s.creds, req, emptyPayloadHash, "s3", s.region, now.UTC()); err != nil {
		return fmt.Errorf("sign the request to S3: %w", err)
	}
	return nil
}
