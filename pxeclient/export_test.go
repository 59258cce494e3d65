package pxeclient

// Test images for the external tests.
var (
	TestGRUB = testGRUB
	TestShim = testShim
)
