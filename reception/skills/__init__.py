"""Order skills: the bot answers and acts on the buyer's own orders before the FAQ does.

Each module is a default plugin with a ``tryfirst`` `bot_answer`:

- `logistics` — where is my parcel (status, carrier, tracking number, latest event);
- `address` — change the delivery address of an unshipped order (the bot does it);
- `spec` — another size or colour (confirmed, then a person does it);
- `cancel` — cancel an unshipped order (confirmed, then a person does it).

`flow` holds what they share (finding the order, multi-turn state, leaving,
asking again, handing over), `choose` which order the buyer means, `words`
yes / no / leave, and `texts` every sentence in Chinese and English.
"""
