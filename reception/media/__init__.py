"""Photos in messages: checked by decoding, cleaned of their metadata, stored beside the database, served
only to who may read their conversation.

`image` decodes and re-encodes (Pillow, pillow-heif for HEIC), `files` keeps the files, `intake` is the
shop's photo service (`media_of`), `fetch` takes a photo from a URL without reaching private addresses,
`api` is the default plugin with the HTTP endpoints. The record of each photo (whose conversation, who
sent it, what it is) is written with its message (`reception.store.media`, migration 8).
"""
