package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// This file is the admin's part of the API client: calls made with the
// signed-in operator's API key.

// errKeyRefused is returned when the origin refuses the API key (401 or
// 403): the sign-in fails, or a session's key was changed on the origin.
var errKeyRefused = errors.New("the API key was refused")

// usageTotals are the usage API's measures, of one row or of the totals.
type usageTotals struct {
	BytesOut         int64   `json:"bytes_out"`
	Requests         int64   `json:"requests"`
	DeliveredSeconds float64 `json:"delivered_seconds"`
	OriginBytes      int64   `json:"origin_bytes"`
	HitRatio         float64 `json:"hit_ratio"`
}

// usageRow is one period of one group.
type usageRow struct {
	usageTotals
	Start time.Time `json:"start"`
	Video string    `json:"video"`
	Edge  string    `json:"edge"`
	Kind  string    `json:"kind"`
}

// usageReport is GET /api/v1/usage's answer.
type usageReport struct {
	From          time.Time   `json:"from"`
	To            time.Time   `json:"to"`
	Granularity   string      `json:"granularity"`
	GroupBy       string      `json:"group_by"`
	Rows          []usageRow  `json:"rows"`
	Totals        usageTotals `json:"totals"`
	StoredMinutes float64     `json:"stored_minutes"`
	Estimate      struct {
		Currency   string      `json:"currency"`
		PayAsYouGo billingPlan `json:"pay_as_you_go"`
		PerMinute  billingPlan `json:"per_minute"`
	} `json:"estimate"`
}

type billingPlan struct {
	Name  string  `json:"name"`
	Total float64 `json:"total"`
	Items []struct {
		Name      string  `json:"name"`
		Quantity  float64 `json:"quantity"`
		Unit      string  `json:"unit"`
		UnitPrice float64 `json:"unit_price"`
		Amount    float64 `json:"amount"`
	} `json:"items"`
}

// invalidationResult is POST /api/v1/invalidations's answer.
type invalidationResult struct {
	Paths []string `json:"paths"`
	Edges []struct {
		Edge    string `json:"edge"`
		Status  string `json:"status"`
		Removed int    `json:"removed"`
		Error   string `json:"error"`
	} `json:"edges"`
}

// videoEdit is what the admin may change of a video (PATCH).
type videoEdit struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Visibility  string   `json:"visibility"`
}

// checkKey asks the origin for something only the key holder may read (the
// last hour's usage), so a sign-in succeeds only with a key the origin
// accepts.
func (c *apiClient) checkKey(ctx context.Context, key string) error {
	now := time.Now().UTC()
	_, err := c.usage(ctx, key, now.Add(-time.Hour), now, "hour", "kind")
	return err
}

// usage reads GET /api/v1/usage.
func (c *apiClient) usage(ctx context.Context, key string, from, to time.Time, granularity, groupBy string) (*usageReport, error) {
	q := url.Values{
		"from":        {from.UTC().Format(time.RFC3339)},
		"to":          {to.UTC().Format(time.RFC3339)},
		"granularity": {granularity},
		"group_by":    {groupBy},
	}
	var rep usageReport
	if err := c.call(ctx, key, "read usage", http.MethodGet, "/api/v1/usage", q, nil, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// listVideosAs lists videos as the key holder sees them (private ones too).
func (c *apiClient) listVideosAs(ctx context.Context, key, cursor string, limit int) (*videoPage, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var page videoPage
	if err := c.call(ctx, key, "list videos", http.MethodGet, "/api/v1/videos", q, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// getVideoAs reads one video as the key holder.
func (c *apiClient) getVideoAs(ctx context.Context, key, id string) (*video, error) {
	if !plausibleID.MatchString(id) {
		return nil, errVideoNotFound
	}
	var v video
	if err := c.call(ctx, key, "get video "+id, http.MethodGet, "/api/v1/videos/"+url.PathEscape(id), nil, nil, &v); err != nil {
		return nil, notFoundAs(err)
	}
	return &v, nil
}

// editVideo PATCHes a video's title, description, tags and visibility.
func (c *apiClient) editVideo(ctx context.Context, key, id string, edit videoEdit) error {
	if !plausibleID.MatchString(id) {
		return errVideoNotFound
	}
	return notFoundAs(c.call(ctx, key, "edit video "+id, http.MethodPatch, "/api/v1/videos/"+url.PathEscape(id), nil, edit, nil))
}

// deleteVideo removes a video and everything stored for it.
func (c *apiClient) deleteVideo(ctx context.Context, key, id string) error {
	if !plausibleID.MatchString(id) {
		return errVideoNotFound
	}
	return notFoundAs(c.call(ctx, key, "delete video "+id, http.MethodDelete, "/api/v1/videos/"+url.PathEscape(id), nil, nil, nil))
}

// invalidate removes paths from every edge's cache.
func (c *apiClient) invalidate(ctx context.Context, key string, paths []string) (*invalidationResult, error) {
	var res invalidationResult
	body := struct {
		Paths []string `json:"paths"`
	}{paths}
	if err := c.call(ctx, key, "invalidate", http.MethodPost, "/api/v1/invalidations", nil, body, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func notFoundAs(err error) error {
	if apiErr := (*apiError)(nil); errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return errVideoNotFound
	}
	return err
}

// call makes one API call with the key: body (when not nil) is sent as
// JSON, a 2xx answer is decoded into into (when not nil), 401 and 403
// become errKeyRefused, and other failures an *apiError carrying the API's
// sentence.
func (c *apiClient) call(ctx context.Context, key, op, method, path string, query url.Values, body, into any) error {
	u := c.base.JoinPath(path)
	u.RawQuery = query.Encode()
	var reqBody io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return &apiError{Op: op, Err: err}
		}
		reqBody = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reqBody)
	if err != nil {
		return &apiError{Op: op, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.client.Do(req)
	if err != nil {
		return &apiError{Op: op, Err: err}
	}
	defer res.Body.Close()
	limited := io.LimitReader(res.Body, maxAPIResponse)
	if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%s: %w", op, errKeyRefused)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(limited).Decode(&e)
		if e.Error == "" {
			e.Error = http.StatusText(res.StatusCode)
		}
		return &apiError{Op: op, Status: res.StatusCode, Err: errors.New(e.Error)}
	}
	if into == nil {
		return nil
	}
	if err := json.NewDecoder(limited).Decode(into); err != nil {
		return &apiError{Op: op, Status: res.StatusCode, Err: fmt.Errorf("decode the answer: %w", err)}
	}
	return nil
}
