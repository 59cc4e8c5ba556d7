package client

// SetTestHookDialed sets the function run between a successful dial and
// the client's move to open.
func SetTestHookDialed(f func()) { testHookDialed = f }
