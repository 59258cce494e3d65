package isofs

import "unsafe"

// DefaultMaxCacheBytes is the bound on the decoded directories an [FS]
// keeps when [Options.MaxCacheBytes] is 0.
const DefaultMaxCacheBytes = 64 << 20

// Memory that a decoded directory costs, as dirCache counts it: the nodes
// (the slice's capacity), the strings they refer to, and dirOverhead for
// the directory itself, its list links and its map entry.
const (
	nodeBytes   = int64(unsafe.Sizeof(node{}))
	extentBytes = int64(unsafe.Sizeof(extent{}))
	badBytes    = int64(unsafe.Sizeof(badEntry{})) + 64 // and its *FormatError
	dirOverhead = int64(unsafe.Sizeof(dirData{})) + 64
)

// dirCache holds decoded directories by the byte offset of their extent,
// within a bound on their bytes: the least recently used directory goes
// first, and is decoded again from the image when next needed. A directory
// larger than the bound on its own is not kept. The root directory, when
// it is at most a quarter of the bound, is pinned instead ([dirCache.pin]):
// every lookup starts there. The FS's mutex guards it.
type dirCache struct {
	max  int64 // bound on size; < 0: none
	size int64 // bytes of the directories held
	dirs map[int64]*dirData
	lru  dirData // sentinel: lru.next is the most recently used

	hits, misses, evictions int64 // for tests and benchmarks
}

func (c *dirCache) init(max int64) {
	c.max = max
	c.dirs = make(map[int64]*dirData)
	c.lru.prev, c.lru.next = &c.lru, &c.lru
}

// get returns the directory at byte offset off, or nil, and marks it used.
func (c *dirCache) get(off int64) *dirData {
	d := c.dirs[off]
	if d == nil {
		c.misses++
		return nil
	}
	c.hits++
	if c.lru.next != d { // a walk asks for the same directory in a row
		c.unlink(d)
		c.pushFront(d)
	}
	return d
}

// pin takes d, which the cache holds, out of the list of directories that
// may be dropped: it stays in memory, and counted in size, for as long as
// the cache lives. It reports false, and leaves d where it is, when d is
// more than a quarter of the bound.
func (c *dirCache) pin(d *dirData) bool {
	if c.dirs[d.off] != d || c.max >= 0 && d.bytes > c.max/4 {
		return false
	}
	c.unlink(d)
	delete(c.dirs, d.off)
	return true
}

// add caches d, decoded from the extent at byte offset off, and returns it,
// or the directory another goroutine cached there meanwhile.
func (c *dirCache) add(off int64, d *dirData) *dirData {
	if d2 := c.dirs[off]; d2 != nil {
		return d2
	}
	if c.max >= 0 && d.bytes > c.max {
		d.gone.Store(true)
		return d
	}
	for c.max >= 0 && c.size+d.bytes > c.max && c.lru.prev != &c.lru {
		old := c.lru.prev
		c.unlink(old)
		delete(c.dirs, old.off)
		old.gone.Store(true)
		c.size -= old.bytes
		c.evictions++
	}
	d.off = off
	c.dirs[off] = d
	c.pushFront(d)
	c.size += d.bytes
	return d
}

func (c *dirCache) unlink(d *dirData) {
	d.prev.next, d.next.prev = d.next, d.prev
	d.prev, d.next = nil, nil
}

func (c *dirCache) pushFront(d *dirData) {
	d.prev, d.next = &c.lru, c.lru.next
	c.lru.next.prev = d
	c.lru.next = d
}

// memory returns what d costs as the cache counts it; the strings of its
// nodes' names and TF entries are the arena of arenaLen bytes.
func (d *dirData) memory(arenaLen int) int64 {
	n := dirOverhead + int64(cap(d.entries))*nodeBytes + int64(arenaLen)
	for i := range d.entries {
		e := &d.entries[i]
		n += int64(len(e.link))
		if e.ext != nil {
			n += 24 + int64(cap(*e.ext))*extentBytes // the slice header and its array
		}
	}
	for i := range d.bad {
		n += badBytes + int64(len(d.bad[i].name))
	}
	return n
}
