/** Leads: `/api/v1/leads` (create, show, update, list newest first with cursor pages). */
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { chosenLimit, jsonObject, paginationFields, recordId } from '../parameters';
import { apiRequest, apiRequestAllItems } from '../transport';

const STATUS_OPTIONS = [
	{ name: 'Lost', value: 'lost' },
	{ name: 'New', value: 'new' },
	{ name: 'Nurture', value: 'nurture' },
	{ name: 'Qualified', value: 'qualified' },
	{ name: 'Won', value: 'won' },
];

/** The lead fields both create and update offer, besides the name. */
const leadFields: INodeProperties[] = [
	{
		displayName: 'Company',
		name: 'company',
		type: 'string',
		default: '',
	},
	{
		displayName: 'Contact ID',
		name: 'contact',
		type: 'number',
		default: 0,
		description: 'ID of the contact the lead came from (a contact of the same tenant)',
	},
	{
		displayName: 'Email',
		name: 'email',
		type: 'string',
		placeholder: 'name@email.com',
		default: '',
	},
	{
		displayName: 'Metadata',
		name: 'metadata',
		type: 'json',
		default: '{}',
		description: 'Any extra data to keep with the lead, as a JSON object',
	},
	{
		displayName: 'Phone',
		name: 'phone',
		type: 'string',
		default: '',
	},
	{
		displayName: 'Score',
		name: 'score',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 100 },
		default: 0,
		description: 'How promising the lead is, from 0 to 100',
	},
	{
		displayName: 'Source',
		name: 'source',
		type: 'string',
		default: '',
		description: 'Where the lead came from, e.g. whatsapp, website, n8n',
	},
	{
		displayName: 'Status',
		name: 'status',
		type: 'options',
		options: STATUS_OPTIONS,
		default: 'new',
	},
];

export const leadOperations: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['lead'] } },
		options: [
			{ name: 'Create', value: 'create', description: 'Create a lead', action: 'Create a lead' },
			{ name: 'Get', value: 'get', description: 'Get a lead', action: 'Get a lead' },
			{
				name: 'Get Many',
				value: 'getAll',
				description: 'Get many leads, newest first',
				action: 'Get many leads',
			},
			{ name: 'Update', value: 'update', description: 'Update a lead', action: 'Update a lead' },
		],
		default: 'create',
	},
];

export const leadProperties: INodeProperties[] = [
	{
		displayName: 'Name',
		name: 'name',
		type: 'string',
		required: true,
		displayOptions: { show: { resource: ['lead'], operation: ['create'] } },
		default: '',
		description: 'Name of the person or company',
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		displayOptions: { show: { resource: ['lead'], operation: ['create'] } },
		default: {},
		options: leadFields,
	},
	{
		displayName: 'Lead ID',
		name: 'leadId',
		type: 'string',
		required: true,
		displayOptions: { show: { resource: ['lead'], operation: ['get', 'update'] } },
		default: '',
	},
	{
		displayName: 'Update Fields',
		name: 'updateFields',
		type: 'collection',
		placeholder: 'Add Field',
		displayOptions: { show: { resource: ['lead'], operation: ['update'] } },
		default: {},
		options: [
			...leadFields.slice(0, 4),
			{
				displayName: 'Name',
				name: 'name',
				type: 'string',
				default: '',
				description: 'Name of the person or company',
			},
			...leadFields.slice(4),
		],
	},
	...paginationFields('lead'),
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		displayOptions: { show: { resource: ['lead'], operation: ['getAll'] } },
		default: {},
		options: [
			{
				displayName: 'Created After',
				name: 'createdAfter',
				type: 'dateTime',
				default: '',
				description: 'Only leads created at or after this moment',
			},
			{
				displayName: 'Created Before',
				name: 'createdBefore',
				type: 'dateTime',
				default: '',
				description: 'Only leads created before this moment',
			},
			{
				displayName: 'Source',
				name: 'source',
				type: 'string',
				default: '',
				description: 'Only leads with exactly this source',
			},
			{
				displayName: 'Status',
				name: 'status',
				type: 'options',
				options: STATUS_OPTIONS,
				default: 'new',
				description: 'Only leads with this status',
			},
		],
	},
];

/** The request body for the chosen lead fields (`metadata` parsed, `contact` 0 → none). */
function leadBody(context: IExecuteFunctions, fields: IDataObject, itemIndex: number): IDataObject {
	const body: IDataObject = { ...fields };
	if ('metadata' in body) body.metadata = jsonObject(context, body.metadata, 'Metadata', itemIndex);
	if ('contact' in body) body.contact = body.contact ? body.contact : null;
	return body;
}

export async function executeLead(
	this: IExecuteFunctions,
	operation: string,
	itemIndex: number,
): Promise<IDataObject | IDataObject[]> {
	if (operation === 'create') {
		const body = leadBody(
			this,
			this.getNodeParameter('additionalFields', itemIndex, {}) as IDataObject,
			itemIndex,
		);
		body.name = this.getNodeParameter('name', itemIndex) as string;
		return await apiRequest.call(this, 'POST', '/leads', body);
	}
	if (operation === 'get') {
		const id = recordId(this, 'leadId', 'Lead ID', itemIndex);
		return await apiRequest.call(this, 'GET', `/leads/${id}`);
	}
	if (operation === 'update') {
		const id = recordId(this, 'leadId', 'Lead ID', itemIndex);
		const fields = this.getNodeParameter('updateFields', itemIndex, {}) as IDataObject;
		if (!Object.keys(fields).length) {
			throw new NodeOperationError(this.getNode(), 'Choose at least one field to update', {
				itemIndex,
			});
		}
		return await apiRequest.call(this, 'PATCH', `/leads/${id}`, leadBody(this, fields, itemIndex));
	}
	if (operation === 'getAll') {
		const filters = this.getNodeParameter('filters', itemIndex, {}) as IDataObject;
		const qs: IDataObject = {};
		if (filters.status) qs.status = filters.status;
		if (filters.source) qs.source = filters.source;
		if (filters.createdAfter) qs.created_after = filters.createdAfter;
		if (filters.createdBefore) qs.created_before = filters.createdBefore;
		return await apiRequestAllItems.call(this, '/leads', qs, chosenLimit(this, itemIndex));
	}
	throw new NodeOperationError(this.getNode(), `Unknown lead operation "${operation}"`, {
		itemIndex,
	});
}
