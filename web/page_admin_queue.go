package web

import (
	"errors"
	"net/http"
)

// The encode queue page, /admin/queue: the queue's depth by job kind and
// the videos not yet complete, from the origin's GET /api/v1/queue.

// adminQueueView is the queue page's View.
type adminQueueView struct {
	Queue *queueReport
	Error string // why the origin gave no queue
}

// Waiting and Running split the unfinished videos: those in line for a
// worker, and those a worker (or the origin's packager) is on.
func (v adminQueueView) Waiting() []queueJob { return v.jobs(true) }

func (v adminQueueView) Running() []queueJob { return v.jobs(false) }

func (v adminQueueView) jobs(waiting bool) []queueJob {
	if v.Queue == nil {
		return nil
	}
	var out []queueJob
	for _, j := range v.Queue.Jobs {
		if (j.QueuePosition > 0) == waiting {
			out = append(out, j)
		}
	}
	return out
}

func (s *Server) adminQueue(w http.ResponseWriter, r *http.Request, sess *session) error {
	var view adminQueueView
	rep, err := s.api.encodeQueue(r.Context(), sess.apiKey)
	if apiErr := (*apiError)(nil); errors.As(err, &apiErr) && apiErr.Status != 0 {
		view.Error = "The origin could not give the queue: " + apiErr.Err.Error()
	} else if err != nil {
		return err
	}
	view.Queue = rep
	return s.renderAdmin(w, http.StatusOK, "admin_queue", "Encode queue · Dashboard", "queue", sess, view)
}
