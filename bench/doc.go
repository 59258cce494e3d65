// Package bench holds benchmarks that compare pxekit's packages with peer
// libraries and programs. It is a separate module so that the peers never
// become dependencies of github.com/pxekit/pxekit itself; each area has its
// own subdirectory (bench/isofs, ...).
package bench
