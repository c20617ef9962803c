"""The AMI: one connection to one Asterisk node (:mod:`ivr.ami.client`).

The package, bottom up: :mod:`~ivr.ami.readers` (header text to typed fields),
:mod:`~ivr.ami.events` (the event records and ``parse_event``, pure),
:mod:`~ivr.ami.frames` (the byte stream cut into messages, pure),
:mod:`~ivr.ami.classes` (each event's class, and the mask asking for them, pure),
:mod:`~ivr.ami.errors`, :mod:`~ivr.ami.action_headers` (pure),
:mod:`~ivr.ami.panoramisk_fixes` (the panoramisk ``Manager`` subclass),
:mod:`~ivr.ami.fanout` (subscribers, waiters and handler tasks),
:mod:`~ivr.ami.mask` (the session's event mask),
:mod:`~ivr.ami.hooks` (connect hooks), and the facade :mod:`~ivr.ami.client`.

Typical use::

    ami = AmiClient("127.0.0.1", 5038, "ivr", secret)
    ami.subscribe("QueueCallerJoin", on_join)
    ami.add_connect_hook(live.resync)
    await ami.start()
    reply = await ami.action("QueueStatus", Queue="hotline-1111")
    action_id = await ami.originate("PJSIP/0812345678@trunk", "callback", "s")
    result = await ami.wait_event(
        lambda e: isinstance(e, OriginateResponse) and e.action_id == action_id, 60
    )
    await ami.close()
"""
