CREATE OR REPLACE FUNCTION public.credit_line_category(p_kind character varying, p_source character varying, p_value bigint)
 RETURNS character varying
 LANGUAGE sql
 IMMUTABLE
AS $function$
  -- A ledger line's finance category (docs/finance.md) from its kind; a grant's from its allocation's
  -- source and value (p_source, p_value: a rollover's grant moves nothing in or out of the liability).
  -- Movements inside the liability have none. A usage correction's lines, and the grant of the lot that
  -- takes what a dead lot could not, are `corrected`: recognized revenue moved back or forth (finance
  -- counts them inside `recognized` and apart as `corrected`). LANGUAGE sql, so it inlines into credit_ledger_write().
  SELECT CASE p_kind WHEN 'debit' THEN 'recognized' WHEN 'repay' THEN 'recognized' WHEN 'expire' THEN 'expired'
                     WHEN 'void' THEN 'voided' WHEN 'refund' THEN 'refunded'
                     WHEN 'transfer_out' THEN 'transferred_out' WHEN 'transfer_in' THEN 'transferred_in'
                     WHEN 'correction' THEN 'corrected' WHEN 'volume_adjustment' THEN 'corrected'
                     WHEN 'grant' THEN CASE WHEN p_source = 'rollover' THEN NULL
                                            WHEN p_source = 'correction' THEN 'corrected'
                                            WHEN p_source = 'purchase' THEN 'purchased'
                                            WHEN p_value IS NOT NULL THEN 'sold'
                                            ELSE 'granted' END
         END
$function$;
