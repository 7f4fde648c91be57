"""Benchmark workload: an operating-system task scheduler in the style of
Richards (pyperformance's richards): tasks with priorities, packets passed
between an idle task, a worker, two handlers and two devices; method calls
and attribute access on small objects."""

IDLE, WORKER, HANDLER_A, HANDLER_B, DEVICE_A, DEVICE_B = range(6)
KIND_DEVICE, KIND_WORK = 0, 1
BUFSIZE = 4


class Packet:
    def __init__(self, link, ident, kind):
        self.link = link
        self.ident = ident
        self.kind = kind
        self.datum = 0
        self.data = [0] * BUFSIZE

    def append_to(self, queue):
        self.link = None
        if queue is None:
            return self
        p = queue
        while p.link is not None:
            p = p.link
        p.link = self
        return queue


class Task:
    def __init__(self, scheduler, ident, priority, queue, waiting):
        self.scheduler = scheduler
        self.ident = ident
        self.priority = priority
        self.queue = queue
        self.waiting = waiting      # waiting for a packet
        self.held = False
        self.suspended = queue is None
        scheduler.tasks[ident] = self
        self.next = scheduler.list
        scheduler.list = self

    def runnable(self):
        return not self.held and not (self.waiting and self.queue is None) and \
            not (self.suspended and self.queue is None)

    def take_packet(self):
        p = self.queue
        self.queue = p.link
        self.waiting = False
        self.suspended = False
        return p

    def add_packet(self, packet, old):
        if self.queue is None:
            self.queue = packet
            self.suspended = False
            self.waiting = False
            if self.priority > old.priority:
                return self
        else:
            self.queue = packet.append_to(self.queue)
        return old


class IdleTask(Task):
    def __init__(self, scheduler, ident, priority, count):
        Task.__init__(self, scheduler, ident, priority, None, False)
        self.suspended = False
        self.control = 1
        self.count = count

    def run(self, packet):
        self.count -= 1
        if self.count == 0:
            return self.scheduler.hold_self()
        if self.control & 1 == 0:
            self.control >>= 1
            return self.scheduler.release(DEVICE_A)
        self.control = (self.control >> 1) ^ 0xD008
        return self.scheduler.release(DEVICE_B)


class WorkerTask(Task):
    def __init__(self, scheduler, ident, priority, queue):
        Task.__init__(self, scheduler, ident, priority, queue, True)
        self.destination = HANDLER_A
        self.count = 0

    def run(self, packet):
        if packet is None:
            return self.scheduler.wait_self()
        self.destination = HANDLER_B if self.destination == HANDLER_A else HANDLER_A
        packet.ident = self.destination
        packet.datum = 0
        for i in range(BUFSIZE):
            self.count = self.count + 1 if self.count < 26 else 1
            packet.data[i] = ord("A") + self.count - 1
        return self.scheduler.queue_packet(packet)


class HandlerTask(Task):
    def __init__(self, scheduler, ident, priority, queue):
        Task.__init__(self, scheduler, ident, priority, queue, True)
        self.work = None
        self.devices = None

    def run(self, packet):
        if packet is not None:
            if packet.kind == KIND_WORK:
                self.work = packet.append_to(self.work)
            else:
                self.devices = packet.append_to(self.devices)
        if self.work is not None:
            work = self.work
            count = work.datum
            if count < BUFSIZE:
                if self.devices is not None:
                    dev = self.devices
                    self.devices = dev.link
                    dev.datum = work.data[count]
                    work.datum = count + 1
                    return self.scheduler.queue_packet(dev)
            else:
                self.work = work.link
                return self.scheduler.queue_packet(work)
        return self.scheduler.wait_self()


class DeviceTask(Task):
    def __init__(self, scheduler, ident, priority):
        Task.__init__(self, scheduler, ident, priority, None, False)
        self.pending = None

    def run(self, packet):
        if packet is None:
            if self.pending is None:
                return self.scheduler.wait_self()
            p, self.pending = self.pending, None
            return self.scheduler.queue_packet(p)
        self.pending = packet
        self.scheduler.hold_count += 1
        return self.scheduler.hold_self()


class Scheduler:
    def __init__(self):
        self.tasks = [None] * 6
        self.list = None
        self.current = None
        self.hold_count = 0
        self.queue_count = 0

    def hold_self(self):
        self.hold_count += 1
        self.current.held = True
        return self.current.next

    def wait_self(self):
        self.current.waiting = True
        return self.current

    def release(self, ident):
        t = self.tasks[ident]
        t.held = False
        return t if t.priority > self.current.priority else self.current

    def queue_packet(self, packet):
        t = self.tasks[packet.ident]
        self.queue_count += 1
        packet.link = None
        packet.ident = self.current.ident
        return t.add_packet(packet, self.current)

    def schedule(self):
        self.current = self.list
        while self.current is not None:
            t = self.current
            if t.runnable():
                packet = t.take_packet() if t.queue is not None and t.waiting else None
                if packet is None and t.queue is not None and not t.waiting:
                    packet = t.take_packet()
                self.current = t.run(packet)
            else:
                self.current = t.next


def run_once(count):
    s = Scheduler()
    IdleTask(s, IDLE, 0, count)
    wq = Packet(None, WORKER, KIND_WORK)
    wq = Packet(wq, WORKER, KIND_WORK)
    WorkerTask(s, WORKER, 1000, wq)
    q = Packet(None, DEVICE_A, KIND_DEVICE)
    q = Packet(q, DEVICE_A, KIND_DEVICE)
    q = Packet(q, DEVICE_A, KIND_DEVICE)
    HandlerTask(s, HANDLER_A, 2000, q)
    q = Packet(None, DEVICE_B, KIND_DEVICE)
    q = Packet(q, DEVICE_B, KIND_DEVICE)
    q = Packet(q, DEVICE_B, KIND_DEVICE)
    HandlerTask(s, HANDLER_B, 3000, q)
    DeviceTask(s, DEVICE_A, 4000)
    DeviceTask(s, DEVICE_B, 5000)
    s.schedule()
    return s.queue_count, s.hold_count


def main():
    print([run_once(2000) for _ in range(50)][-1])


if __name__ == "__main__":
    main()
