-- Fees paid online (issue 14, SPEC section 7): one payment per application of a paid
-- service, at the portal's XBezahldienste provider. An application stays
-- `awaiting_payment` (and out of the office's inbox) until its payment is `paid`.
-- Applied after 0005 by `wrangler d1 migrations apply DB` and by `lotse serve` alike.
-- Nothing here is personal: the amount and purpose come from the content, the ids and
-- the Kassenzeichen (`reference`) from the provider.
CREATE TABLE IF NOT EXISTS payments (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    -- Euro cents.
    amount         INTEGER NOT NULL,
    purpose        TEXT NOT NULL,
    -- open, paid, failed, cancelled
    status         TEXT NOT NULL,
    -- Which try this is: the provider's requestId is the application id, then
    -- `<id>-2`, `<id>-3` … for each new try after a failed or cancelled one
    -- (XBezahldienste refuses a requestId twice, PAYMENT_EXISTS).
    attempt        INTEGER NOT NULL DEFAULT 1,
    -- The provider's transactionId; NULL until the transaction is created.
    transaction_id TEXT,
    -- Where the provider sends the citizen back (redirectUrl), on the site applied on.
    return_url     TEXT NOT NULL,
    -- The provider's payment page (transactionRedirectUrl).
    payment_url    TEXT,
    -- The provider's transactionReference, the Kassenzeichen.
    reference      TEXT,
    created_at     INTEGER NOT NULL,
    -- When the schedule next asks the provider (ms).
    next_check_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_due ON payments (next_check_at);
