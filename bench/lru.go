package bench

import "container/list"

// lru is a byte-budgeted least-recently-used cache simulation: it keeps
// keys and weights only, to predict the hit ratio a plain LRU would get on
// a request stream.
type lru struct {
	budget, used int64
	order        *list.List // front = most recent; values are *lruItem
	items        map[int]*list.Element
}

type lruItem struct {
	key    int
	weight int64
}

func newLRU(budget int64) *lru {
	return &lru{budget: budget, order: list.New(), items: map[int]*list.Element{}}
}

// access records a request for key of the given weight and reports
// whether it was a hit; a miss inserts it, evicting the least recently
// used until it fits. An item heavier than the budget is never kept.
func (c *lru) access(key int, weight int64) bool {
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return true
	}
	if weight > c.budget {
		return false
	}
	for c.used+weight > c.budget {
		last := c.order.Back()
		it := last.Value.(*lruItem)
		c.order.Remove(last)
		delete(c.items, it.key)
		c.used -= it.weight
	}
	c.items[key] = c.order.PushFront(&lruItem{key: key, weight: weight})
	c.used += weight
	return false
}
