//! Many datagrams per system call on Linux (`recvmmsg`, `sendmmsg`): under load a receive loop
//! takes up to [`SLOTS`] queries at once and sends their cached answers together, instead of
//! one system call per query each way.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Datagrams taken per call.
pub const SLOTS: usize = 32;
/// Larger than any UDP payload, so no datagram is cut on receipt.
const SLOT_BYTES: usize = 65_535;

/// The datagrams of one receive call, each with its sender's address as the kernel gave it
/// (answers go back to exactly that address).
pub struct Inbox {
    buffers: Box<[u8]>,
    senders: [libc::sockaddr_storage; SLOTS],
    sender_lens: [libc::socklen_t; SLOTS],
    lens: [usize; SLOTS],
}

impl Inbox {
    pub fn new() -> Inbox {
        Inbox {
            buffers: vec![0; SLOTS * SLOT_BYTES].into_boxed_slice(),
            // SAFETY: sockaddr_storage is plain old data; all zeroes is a valid (empty) value.
            senders: unsafe { zeroed() },
            sender_lens: [0; SLOTS],
            lens: [0; SLOTS],
        }
    }

    /// Takes the datagrams waiting (at most [`SLOTS`]) without waiting; `WouldBlock` when
    /// there are none (then await `socket.readable()`).
    pub fn receive(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        let fd = socket.as_raw_fd();
        socket.try_io(Interest::READABLE, || {
            // SAFETY: iovec and mmsghdr are plain old data; zeroes are valid before filling in.
            let mut iovecs: [libc::iovec; SLOTS] = unsafe { zeroed() };
            let mut headers: [libc::mmsghdr; SLOTS] = unsafe { zeroed() };
            let base = self.buffers.as_mut_ptr();
            for (i, (iov, h)) in iovecs.iter_mut().zip(headers.iter_mut()).enumerate() {
                // SAFETY: slot i lies inside `buffers` (SLOTS * SLOT_BYTES bytes).
                iov.iov_base = unsafe { base.add(i * SLOT_BYTES) }.cast();
                iov.iov_len = SLOT_BYTES;
                h.msg_hdr.msg_name = (&raw mut self.senders[i]).cast();
                h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                h.msg_hdr.msg_iov = iov;
                h.msg_hdr.msg_iovlen = 1;
            }
            // SAFETY: every header points at a live buffer of the length it states and at an
            // address slot of the size it states; all outlive the call.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    headers.as_mut_ptr(),
                    SLOTS as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let n = n as usize;
            for (i, h) in headers[..n].iter().enumerate() {
                self.lens[i] = h.msg_len as usize;
                self.sender_lens[i] = h.msg_hdr.msg_namelen;
            }
            Ok(n)
        })
    }

    /// Datagram `i` of the last [`Inbox::receive`] and its sender (`None`: not an IP sender).
    pub fn datagram(&self, i: usize) -> Option<(&[u8], SocketAddr)> {
        let start = i * SLOT_BYTES;
        let packet = &self.buffers[start..start + self.lens[i].min(SLOT_BYTES)];
        Some((packet, self.sender(i)?))
    }

    fn sender(&self, i: usize) -> Option<SocketAddr> {
        let storage = &self.senders[i];
        match i32::from(storage.ss_family) {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a sockaddr_in, which it can hold.
                let a = unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
                let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(a.sin_port))))
            }
            libc::AF_INET6 => {
                // SAFETY: as above, for sockaddr_in6.
                let a = unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
                let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
                let port = u16::from_be(a.sin6_port);
                Some(SocketAddr::V6(SocketAddrV6::new(ip, port, a.sin6_flowinfo, a.sin6_scope_id)))
            }
            _ => None,
        }
    }
}

/// Answers to datagrams of an [`Inbox`], sent together.
#[derive(Default)]
pub struct Outbox {
    /// The answer and the inbox slot of the query it answers.
    replies: Vec<(Vec<u8>, usize)>,
}

impl Outbox {
    pub fn push(&mut self, reply: Vec<u8>, slot: usize) {
        self.replies.push((reply, slot));
    }

    /// Sends every answer (waiting while the socket's buffer is full); an answer the kernel
    /// refuses is skipped, as a failed `send_to` would be.
    pub async fn send(&mut self, socket: &UdpSocket, inbox: &Inbox) {
        let mut at = 0;
        while at < self.replies.len() {
            match socket.try_io(Interest::WRITABLE, || send_some(socket.as_raw_fd(), &self.replies[at..], inbox)) {
                Ok(n) => at += n.max(1),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if socket.writable().await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "DNS UDP reply not sent");
                    at += 1;
                }
            }
        }
        self.replies.clear();
    }
}

/// One `sendmmsg` of the first answers (at most [`SLOTS`]); how many went out.
fn send_some(fd: std::os::fd::RawFd, replies: &[(Vec<u8>, usize)], inbox: &Inbox) -> io::Result<usize> {
    let count = replies.len().min(SLOTS);
    // SAFETY: plain old data, filled in below.
    let mut iovecs: [libc::iovec; SLOTS] = unsafe { zeroed() };
    let mut headers: [libc::mmsghdr; SLOTS] = unsafe { zeroed() };
    for ((iov, h), (reply, slot)) in iovecs.iter_mut().zip(headers.iter_mut()).zip(&replies[..count]) {
        iov.iov_base = reply.as_ptr().cast_mut().cast();
        iov.iov_len = reply.len();
        h.msg_hdr.msg_name = (&raw const inbox.senders[*slot]).cast_mut().cast();
        h.msg_hdr.msg_namelen = inbox.sender_lens[*slot];
        h.msg_hdr.msg_iov = iov;
        h.msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: the headers point at live answers and addresses of the lengths they state; the
    // kernel only reads them (sendmmsg writes msg_len alone).
    let n = unsafe { libc::sendmmsg(fd, headers.as_mut_ptr(), count as libc::c_uint, libc::MSG_DONTWAIT) };
    if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Datagrams from two clients come in together and each gets its own answer back.
    #[tokio::test]
    async fn every_datagram_of_a_batch_is_answered_to_its_sender() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let clients: Vec<std::net::UdpSocket> =
            (0..2).map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).collect();
        for (i, c) in clients.iter().enumerate() {
            c.send_to(format!("query {i}").as_bytes(), addr).unwrap();
            c.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        }
        let mut inbox = Inbox::new();
        let mut seen = Vec::new();
        while seen.len() < 2 {
            server.readable().await.unwrap();
            let Ok(count) = inbox.receive(&server) else { continue };
            let mut outbox = Outbox::default();
            for slot in 0..count {
                let (packet, sender) = inbox.datagram(slot).expect("an IPv4 sender");
                seen.push((String::from_utf8(packet.to_vec()).unwrap(), sender));
                outbox.push([b"answer to ", packet].concat(), slot);
            }
            outbox.send(&server, &inbox).await;
        }
        for (i, c) in clients.iter().enumerate() {
            assert!(seen.contains(&(format!("query {i}"), c.local_addr().unwrap())));
            let mut buf = [0u8; 64];
            let (n, from) = c.recv_from(&mut buf).unwrap();
            assert_eq!((&buf[..n], from), (format!("answer to query {i}").as_bytes(), addr));
        }
    }
}
