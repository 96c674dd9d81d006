-- Exchange rates per tenant and day: one unit of `base` is `rate` units of `quote`
-- (ECB style: base EUR, quote USD, rate 1.0731). A new value for the same
-- (tenant, day, base, quote) replaces the old one. `source` says where it came from
-- (api, csv, fake, ...) and is reported beside converted answers.
CREATE TABLE fx_rates (
  tenant_id   text        NOT NULL,
  base        char(3)     NOT NULL,
  quote       char(3)     NOT NULL,
  day         date        NOT NULL,
  rate        numeric     NOT NULL CHECK (rate > 0),
  source      text        NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (base <> quote),
  -- Pair first: "the latest rate of this pair on or before a day" is one index range.
  PRIMARY KEY (tenant_id, base, quote, day)
);

-- Conversion loads every rate of a tenant over a range of days.
CREATE INDEX fx_rates_by_day ON fx_rates (tenant_id, day);
