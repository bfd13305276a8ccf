// How much of what the server sent its clients is still on its side of the connections, so
// that a drain closes connections only once their last responses have left (Linux).
#ifndef HNET_SERVER_SOCKET_DRAIN_H_
#define HNET_SERVER_SOCKET_DRAIN_H_

#include <cstdint>

namespace hnet::server {

// Bytes written to this process's connected TCP sockets whose local port is `port` (the
// connections a server accepted there) that their peers have not acknowledged yet: the sum of
// SIOCOUTQ over /proc/self/fd. 0 where this cannot be read (no /proc, not Linux). A reset
// discards such bytes, so closing a connection before they are gone can cut a response short.
// Thread-safe; only queries descriptors (one may close meanwhile: it is then skipped).
int64_t UnacknowledgedBytes(int port);

}  // namespace hnet::server

#endif  // HNET_SERVER_SOCKET_DRAIN_H_
