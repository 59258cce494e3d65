// Package bench holds benchmarks that compare pxekit's packages with peer
// libraries and programs. It is a separate module so that the peers never
// become dependencies of github.com/pxekit/pxekit itself; each area has its
// own subdirectory (bench/isofs, ...). bench/abuse is a program, not a
// benchmark: it floods examples/minimal-server in network namespaces and
// prints what each flood did to it (see bench/abuse/README.md).
package bench
