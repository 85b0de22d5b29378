/** Reading node parameters into API request bodies. */
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

/** A JSON parameter as an object: n8n hands it over as text or, from an expression, as an object. */
export function jsonObject(
	context: IExecuteFunctions,
	value: unknown,
	label: string,
	itemIndex: number,
): IDataObject {
	let parsed: unknown = value;
	if (typeof value === 'string') {
		const text = value.trim();
		if (!text) return {};
		try {
			parsed = JSON.parse(text);
		} catch {
			throw new NodeOperationError(context.getNode(), `${label} is not valid JSON`, { itemIndex });
		}
	}
	if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
		throw new NodeOperationError(context.getNode(), `${label} must be a JSON object`, {
			itemIndex,
		});
	}
	return parsed as IDataObject;
}

/** `"3, 5,8"` → `[3, 5, 8]`: ids typed as a comma-separated list. */
export function idList(
	context: IExecuteFunctions,
	value: unknown,
	label: string,
	itemIndex: number,
): number[] {
	if (Array.isArray(value))
		return value.map((entry) => idList(context, entry, label, itemIndex)).flat();
	const parts = String(value ?? '')
		.split(',')
		.map((part) => part.trim())
		.filter(Boolean);
	return parts.map((part) => {
		if (!/^\d+$/.test(part)) {
			throw new NodeOperationError(
				context.getNode(),
				`${label} must be ids separated by commas, e.g. 3, 5`,
				{ itemIndex },
			);
		}
		return Number(part);
	});
}

/** The path segment of a record id typed into the node. */
export function recordId(
	context: IExecuteFunctions,
	parameter: string,
	label: string,
	itemIndex: number,
): string {
	const value = String(context.getNodeParameter(parameter, itemIndex, '')).trim();
	if (!value) {
		throw new NodeOperationError(context.getNode(), `${label} is required`, { itemIndex });
	}
	return encodeURIComponent(value);
}

/** Copy the collection's fields into a body under the API's names (`apiNames[field]`). */
export function renamed(fields: IDataObject, apiNames: Record<string, string>): IDataObject {
	const body: IDataObject = {};
	for (const [field, value] of Object.entries(fields)) {
		body[apiNames[field] ?? field] = value;
	}
	return body;
}

/** `Return All` and `Limit` for a "Get Many" operation. */
export function paginationFields(resource: string, operation = 'getAll'): INodeProperties[] {
	const show = { resource: [resource], operation: [operation] };
	return [
		{
			displayName: 'Return All',
			name: 'returnAll',
			type: 'boolean',
			displayOptions: { show },
			default: false,
			description: 'Whether to return all results or only up to a given limit',
		},
		{
			displayName: 'Limit',
			name: 'limit',
			type: 'number',
			displayOptions: { show: { ...show, returnAll: [false] } },
			typeOptions: { minValue: 1 },
			default: 50,
			description: 'Max number of results to return',
		},
	];
}

/** The row limit chosen in the node: undefined for "Return All". */
export function chosenLimit(context: IExecuteFunctions, itemIndex: number): number | undefined {
	if (context.getNodeParameter('returnAll', itemIndex, false) as boolean) return undefined;
	return context.getNodeParameter('limit', itemIndex, 50) as number;
}
