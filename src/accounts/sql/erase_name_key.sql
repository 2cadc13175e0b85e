CREATE OR REPLACE FUNCTION public.erase_name_key(p_key text)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE
AS $function$
      -- The JSON keys whose values hold a person's name or words written about them (docs/erasure.md):
      -- `username`, `name` and every key ending in `Name` (a key's name, a display name), notes, reasons
      -- and descriptions, and budget scopes (`scope`, `scopes`: a scope id loses the username as a
      -- record's does). Only under these is the username looked for.
      SELECT p_key ~ '^(username|name|notes?|reason|description|scopes?)$|(Name|Note|Notes|Reason|Description)$'
$function$;
