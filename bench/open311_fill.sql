-- The 1,000,000 generated requests of bench/open311.py (database_fill), with their events:
-- one statement per part, run in one transaction, with the parameters prefix, rows and like.
SELECT setseed(0.311)

-- next
CREATE TEMP TABLE bench_services AS
  SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, turnaround_hours
  FROM catalog_servicetype

-- next
INSERT INTO service_requests_servicerequest (
  public_id, service_type_id, location, address, description, attributes, status, channel,
  language, contact_name, contact_email, contact_phone, requested_at, updated_at,
  expected_at, closed_at, close_reason, priority, idempotency_key, idempotency_fingerprint,
  media_url)
SELECT
  %(prefix)s || g,
  s.id,
  ST_SetSRID(ST_MakePoint(-71.06 + (random() - 0.5) * 0.2, 42.35 + (random() - 0.5) * 0.15),
             4326),
  (1 + g %% 400) || ' ' || (ARRAY['Tremont St','Beacon St','Boylston St','Washington St',
    'Massachusetts Ave','Commonwealth Ave','Dorchester Ave','Blue Hill Ave'])[1 + g %% 8],
  (ARRAY['Deep hole in the right lane', 'Light out since Tuesday', 'Tagging on the wall',
    'Mattress on the sidewalk', 'Car parked for weeks', 'Bins not collected',
    'Broken paving slab', 'Branch hanging over the road', 'Signal stuck on red',
    'Water running down the street', 'Rats near the bins', 'Dead raccoon'])[1 + s.n],
  '{}'::jsonb,
  r.status,
  (ARRAY['app','app','app','web','web','phone','open311','chat'])[1 + g %% 8],
  'en', '', '', '',
  r.requested_at,
  CASE WHEN r.status = 'closed' THEN r.closed_at ELSE r.requested_at END,
  r.requested_at + make_interval(hours => s.turnaround_hours),
  r.closed_at,
  CASE WHEN r.status = 'closed' THEN
    (ARRAY['resolved','resolved','resolved','resolved','resolved','resolved','resolved',
           'duplicate','not_city_responsibility','cannot_locate','cancelled'])[1 + g %% 11]
  ELSE '' END,
  2, NULL, '', ''
FROM generate_series(1, %(rows)s) AS g
JOIN bench_services s ON s.n = g %% 12
CROSS JOIN LATERAL (
  SELECT t.requested_at,
    CASE WHEN t.age_days > 30 AND t.u < 0.9 THEN 'closed'
         WHEN t.age_days <= 30 AND t.u < 0.4 THEN 'closed'
         WHEN t.u < 0.93 THEN 'submitted'
         WHEN t.u < 0.96 THEN 'acknowledged'
         ELSE 'in_progress' END AS status,
    CASE WHEN (t.age_days > 30 AND t.u < 0.9) OR (t.age_days <= 30 AND t.u < 0.4)
         THEN least(t.requested_at + make_interval(hours => 1 + (t.u * 200)::int), now())
    END AS closed_at
  FROM (SELECT now() - make_interval(secs => a.r * 365 * 86400) AS requested_at,
               a.r * 365 AS age_days, random() + 0 * g AS u
        FROM (SELECT random() + 0 * g AS r) a) t
) r

-- next
INSERT INTO service_requests_servicerequestevent (
  service_request_id, kind, created_at, channel, from_status, to_status, close_reason,
  public_note, internal_note)
SELECT id, 'created', requested_at, channel, '', 'submitted', '', 'Request received.', ''
FROM service_requests_servicerequest WHERE public_id LIKE %(like)s

-- next
INSERT INTO service_requests_servicerequestevent (
  service_request_id, kind, created_at, channel, from_status, to_status, close_reason,
  public_note, internal_note)
SELECT id, 'status_changed', closed_at, '', 'submitted', 'closed', close_reason,
  CASE close_reason WHEN 'resolved' THEN 'Fixed. Thank you for reporting it.'
    WHEN 'duplicate' THEN 'Already reported.' ELSE 'Closed.' END, ''
FROM service_requests_servicerequest WHERE public_id LIKE %(like)s AND status = 'closed'

-- next
INSERT INTO service_requests_servicerequestevent (
  service_request_id, kind, created_at, channel, from_status, to_status, close_reason,
  public_note, internal_note)
SELECT id, 'status_changed', requested_at + interval '2 hours', '', 'submitted', status, '',
  'A crew is on it.', ''
FROM service_requests_servicerequest
WHERE public_id LIKE %(like)s AND status IN ('acknowledged', 'in_progress')
